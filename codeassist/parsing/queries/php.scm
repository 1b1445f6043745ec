; Tag query for PHP.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(class_declaration
  name: (name) @name) @definition.class

(interface_declaration
  name: (name) @name) @definition.interface

(trait_declaration
  name: (name) @name) @definition.trait

(enum_declaration
  name: (name) @name) @definition.enum

(function_definition
  name: (name) @name) @definition.function

(method_declaration
  name: (name) @name) @definition.method

; `namespace App\Store;` / `namespace App\Store { ... }`
(namespace_definition
  name: (namespace_name) @name) @definition.module

; `const X = 1;` (file, namespace or class level; one match per element).
(const_declaration
  (const_element
    (name) @name) @definition.constant)

; `define('X', 1);`
((function_call_expression
  function: (name)
  arguments: (arguments
    .
    (argument
      (string (string_content) @name)))) @definition.constant
  (#match? @definition.constant "^define\\s*\\("))

; ----------------------------------------------------------------- references

; Calls: `f()`, `\Ns\f()`, `$o->m()`, `$o?->m()`, `A::m()` -> the function/method name.
(function_call_expression
  function: [
    (name) @name
    (qualified_name (name) @name .)
  ]) @reference.call

(member_call_expression
  name: (name) @name) @reference.call

(nullsafe_member_call_expression
  name: (name) @name) @reference.call

(scoped_call_expression
  name: (name) @name) @reference.call

(object_creation_expression
  [
    (name) @name
    (qualified_name (name) @name .)
  ]) @reference.new

; `use A\B\C;`, `use A\B as D;`, `use function A\f;` -> the full name.
(namespace_use_clause
  .
  [
    (qualified_name)
    (name)
  ] @name) @reference.import

; `use A\B\{C, D}` -> the prefix `A\B` (the members are matched above).
(namespace_use_declaration
  (namespace_name) @name
  body: (namespace_use_group)) @reference.import

; `require_once 'x.php'`, `include __DIR__ . '/x.php'` -> the path string.
[
  (require_expression [(string (string_content) @name) (binary_expression right: (string (string_content) @name))])
  (require_once_expression [(string (string_content) @name) (binary_expression right: (string (string_content) @name))])
  (include_expression [(string (string_content) @name) (binary_expression right: (string (string_content) @name))])
  (include_once_expression [(string (string_content) @name) (binary_expression right: (string (string_content) @name))])
] @reference.import

; `extends Base`, `implements I, \J`, `use SomeTrait;` (inside a class)
(base_clause
  [
    (name) @name
    (qualified_name (name) @name .)
  ]) @reference.inherit

(class_interface_clause
  [
    (name) @name
    (qualified_name (name) @name .)
  ]) @reference.inherit

(use_declaration
  [
    (name) @name
    (qualified_name (name) @name .)
  ]) @reference.inherit

; Type declarations: `Foo $x`, `: ?\Ns\Bar`, `A|B`.
(named_type
  [
    (name) @name
    (qualified_name (name) @name .)
  ]) @reference.type
