; Tag query for Swift.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.
; (`extension T { ... }` is not a definition; members inside it are still tagged.)

; ---------------------------------------------------------------- definitions

(class_declaration
  declaration_kind: ["class" "actor"]
  name: (type_identifier) @name) @definition.class

(class_declaration
  declaration_kind: "struct"
  name: (type_identifier) @name) @definition.struct

(class_declaration
  declaration_kind: "enum"
  name: (type_identifier) @name) @definition.enum

(protocol_declaration
  name: (type_identifier) @name) @definition.interface

(typealias_declaration
  name: (type_identifier) @name) @definition.type

; Methods: functions in type / extension bodies, protocol requirements, initializers.
(class_body
  (function_declaration
    name: (simple_identifier) @name) @definition.method)

(enum_class_body
  (function_declaration
    name: (simple_identifier) @name) @definition.method)

(protocol_function_declaration
  name: (simple_identifier) @name) @definition.method

(init_declaration
  name: "init" @name) @definition.method

; Free functions (file level or nested in another body).
(source_file
  (function_declaration
    name: (simple_identifier) @name) @definition.function)

(statements
  (function_declaration
    name: (simple_identifier) @name) @definition.function)

; File-level `let` / `var`.
(source_file
  (property_declaration
    name: (pattern
      bound_identifier: (simple_identifier) @name)) @definition.constant)

; ----------------------------------------------------------------- references

; Calls: `f()`, `a.b.c()`, trailing-closure calls -> the last identifier.
; (Subscripts `a[i]` also parse as call_expression; they are skipped.)
(call_expression
  .
  [
    (simple_identifier) @name
    (navigation_expression
      suffix: (navigation_suffix
        suffix: (simple_identifier) @name))
  ]
  (call_suffix
    [
      (value_arguments "(")
      (lambda_literal)
    ])) @reference.call

; `Foo<T>()` parses as a constructor expression.
(constructor_expression
  constructed_type: [
    (user_type (type_identifier) @name .)
    (user_type (type_identifier) @name . (type_arguments))
  ]) @reference.new

; `import Foundation`, `import struct UIKit.CGPoint` -> the module path.
(import_declaration
  (identifier) @name) @reference.import

; Superclass / protocol conformances (also on extensions).
(inheritance_specifier
  inherits_from: [
    (user_type (type_identifier) @name .)
    (user_type (type_identifier) @name . (type_arguments))
  ]) @reference.inherit

; Types: `x: Foo`, `Swift.Array<Int>` -> the last type identifier; the reference node is the user_type.
(user_type
  (type_identifier) @name
  .) @reference.type

(user_type
  (type_identifier) @name
  .
  (type_arguments)) @reference.type
