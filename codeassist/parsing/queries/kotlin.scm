; Tag query for Kotlin.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(class_declaration
  "interface"
  name: (identifier) @name) @definition.interface

; `enum class E { ... }`
(class_declaration
  "class"
  name: (identifier) @name
  (enum_class_body)) @definition.enum

; Other classes: with a body, or without one (`data class P(val x: Int)`, `class A : B()`).
(class_declaration
  "class"
  name: (identifier) @name
  (class_body)) @definition.class

(class_declaration
  "class"
  name: (identifier) @name
  .) @definition.class

(class_declaration
  "class"
  name: (identifier) @name
  [
    (primary_constructor)
    (delegation_specifiers)
    (type_parameters)
    (type_constraints)
  ]
  .) @definition.class

; `object Registry { ... }` (named companion objects too).
(object_declaration
  name: (identifier) @name) @definition.module

(companion_object
  name: (identifier) @name) @definition.module

; Functions declared in a class / object / enum body are methods; the rest are functions.
(class_body
  (function_declaration
    name: (identifier) @name) @definition.method)

(enum_class_body
  (function_declaration
    name: (identifier) @name) @definition.method)

(source_file
  (function_declaration
    name: (identifier) @name) @definition.function)

(block
  (function_declaration
    name: (identifier) @name) @definition.function)

(type_alias
  type: (identifier) @name) @definition.type

; Top-level `val` / `var` / `const val`.
(source_file
  (property_declaration
    (variable_declaration
      (identifier) @name)) @definition.constant)

; `const val` inside objects / companion objects.
(class_body
  (property_declaration
    (modifiers (property_modifier "const"))
    (variable_declaration
      (identifier) @name)) @definition.constant)

; ----------------------------------------------------------------- references

; Calls: `f()`, `a.b.c()`, `o?.f<T>()`, `Foo()` (constructor calls look the same).
(call_expression
  .
  [
    (identifier) @name
    (navigation_expression (identifier) @name .)
  ]) @reference.call

; `import a.b.C`, `import a.b.*`, `import a.b.C as D` -> the dotted path.
(import
  (qualified_identifier) @name) @reference.import

; Supertypes: `class A : Base(), I, J by impl`
(delegation_specifier
  [
    (user_type (identifier) @name .)
    (user_type (identifier) @name . (type_arguments))
    (constructor_invocation (user_type (identifier) @name .))
    (constructor_invocation (user_type (identifier) @name . (type_arguments)))
    (explicit_delegation (user_type (identifier) @name .))
    (explicit_delegation (user_type (identifier) @name . (type_arguments)))
  ]) @reference.inherit

; Types: `x: Foo`, `a.b.Map<K, V>` -> the last identifier; the reference node is the user_type.
(user_type
  (identifier) @name
  .) @reference.type

(user_type
  (identifier) @name
  .
  (type_arguments)) @reference.type
