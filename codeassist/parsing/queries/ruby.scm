; Tag query for Ruby.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(class
  name: [
    (constant) @name
    (scope_resolution name: (constant) @name)
  ]) @definition.class

(module
  name: [
    (constant) @name
    (scope_resolution name: (constant) @name)
  ]) @definition.module

; `def name` (also operators such as `def <=>`) and `def self.name`.
(method
  name: (_) @name) @definition.method

(singleton_method
  name: (_) @name) @definition.method

; `NAME = value` (Ruby constants live at file, module or class level).
(assignment
  left: (constant) @name) @definition.constant

; ----------------------------------------------------------------- references

; Method calls with an explicit method name: `foo(1)`, `a.b.c`, `obj.run { }`.
(call
  method: (identifier) @name) @reference.call

; `Foo.new(...)`, `A::Foo.new` -> Foo
((call
  receiver: [
    (constant) @name
    (scope_resolution name: (constant) @name)
  ]
  method: (identifier)) @reference.new
  (#match? @reference.new "^[A-Za-z0-9_:]+\\.new([^A-Za-z0-9_?!]|$)"))

; `require "json"`, `require_relative "lib/x"` -> the required path.
((call
  method: (identifier)
  arguments: (argument_list
    .
    (string (string_content) @name))) @reference.import
  (#match? @reference.import "^require(_relative)?[ (]"))

; `class A < B`, `class A < M::B`
(superclass
  [
    (constant) @name
    (scope_resolution name: (constant) @name)
  ]) @reference.inherit

; Mixins: `include Enumerable`, `extend M::Helpers`, `prepend P`
((call
  method: (identifier)
  arguments: (argument_list
    [
      (constant) @name
      (scope_resolution name: (constant) @name)
    ])) @reference.inherit
  (#match? @reference.inherit "^(include|extend|prepend)[ (]"))
