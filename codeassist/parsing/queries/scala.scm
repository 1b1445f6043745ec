; Tag query for Scala (2 and 3).
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(class_definition
  name: (identifier) @name) @definition.class

(trait_definition
  name: (identifier) @name) @definition.trait

(object_definition
  name: (identifier) @name) @definition.module

(enum_definition
  name: (identifier) @name) @definition.enum

(type_definition
  name: (type_identifier) @name) @definition.type

; `package a.b` / `package a.b { ... }`
(package_clause
  name: (package_identifier) @name) @definition.module

; Members of classes / traits / objects / enums are methods ...
(template_body
  [
    (function_definition name: (identifier) @name)
    (function_declaration name: (identifier) @name)
  ] @definition.method)

(enum_body
  [
    (function_definition name: (identifier) @name)
    (function_declaration name: (identifier) @name)
  ] @definition.method)

; ... top-level (Scala 3) and local ones are functions.
(compilation_unit
  (function_definition
    name: (identifier) @name) @definition.function)

(block
  (function_definition
    name: (identifier) @name) @definition.function)

; Top-level (Scala 3) and object-level `val`s.
(compilation_unit
  (val_definition
    pattern: (identifier) @name) @definition.constant)

(object_definition
  body: (template_body
    (val_definition
      pattern: (identifier) @name) @definition.constant))

; ----------------------------------------------------------------- references

; Calls: `f(x)`, `a.b.c(x)`, `f[T](x)` -> the last identifier.
(call_expression
  function: [
    (identifier) @name
    (field_expression field: (identifier) @name)
    (generic_function function: (identifier) @name)
    (generic_function function: (field_expression field: (identifier) @name))
  ]) @reference.call

; `new Foo(...)`, `new pkg.Foo[T]()`
(instance_expression
  [
    (type_identifier) @name
    (stable_type_identifier (type_identifier) @name .)
    (generic_type type: (type_identifier) @name)
    (generic_type type: (stable_type_identifier (type_identifier) @name .))
  ]) @reference.new

; Imports. The path is a flat list of identifiers in this grammar, so the name is
; its last segment: `import a.b.C` -> C, `import a.b._` -> b,
; `import a.b.{C, D => E}` -> b plus one match per selector (C, D).
(import_declaration
  (identifier) @name
  .) @reference.import

(import_declaration
  (identifier) @name
  .
  [
    (namespace_wildcard)
    (namespace_selectors)
  ]) @reference.import

(import_declaration
  (namespace_selectors
    [
      (identifier) @name
      (arrow_renamed_identifier name: (identifier) @name)
    ])) @reference.import

; `extends Base(args) with Trait[T] with Other` (no field name: `type:` repeats and
; only its first occurrence would match).
(extends_clause
  [
    (type_identifier) @name
    (stable_type_identifier (type_identifier) @name .)
    (generic_type type: (type_identifier) @name)
    (generic_type type: (stable_type_identifier (type_identifier) @name .))
  ]) @reference.inherit

; Type identifiers in type positions (not the names being declared); the
; reference node is the type identifier itself.
[
  (parameter type: (type_identifier) @name @reference.type)
  (class_parameter type: (type_identifier) @name @reference.type)
  (function_definition return_type: (type_identifier) @name @reference.type)
  (function_declaration return_type: (type_identifier) @name @reference.type)
  (val_definition type: (type_identifier) @name @reference.type)
  (var_definition type: (type_identifier) @name @reference.type)
  (val_declaration type: (type_identifier) @name @reference.type)
  (var_declaration type: (type_identifier) @name @reference.type)
  (type_definition type: (type_identifier) @name @reference.type)
  (generic_type type: (type_identifier) @name @reference.type)
  (type_arguments (type_identifier) @name @reference.type)
  (stable_type_identifier (type_identifier) @name @reference.type .)
  (compound_type (type_identifier) @name @reference.type)
  (function_type return_type: (type_identifier) @name @reference.type)
  (parameter_types (type_identifier) @name @reference.type)
  (tuple_type (type_identifier) @name @reference.type)
  (typed_pattern type: (type_identifier) @name @reference.type)
  (upper_bound type: (type_identifier) @name @reference.type)
  (lower_bound type: (type_identifier) @name @reference.type)
]
