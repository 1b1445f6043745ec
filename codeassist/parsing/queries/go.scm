; Tag query for Go.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(function_declaration
  name: (identifier) @name) @definition.function

(method_declaration
  name: (field_identifier) @name) @definition.method

; Methods declared in interfaces.
(method_elem
  name: (field_identifier) @name) @definition.method

(type_spec
  name: (type_identifier) @name
  type: (struct_type)) @definition.struct

(type_spec
  name: (type_identifier) @name
  type: (interface_type)) @definition.interface

; Other named types: `type Mode int`, `type Handler func() error`, ...
(type_spec
  name: (type_identifier) @name
  type: [
    (type_identifier)
    (qualified_type)
    (generic_type)
    (pointer_type)
    (slice_type)
    (array_type)
    (map_type)
    (channel_type)
    (function_type)
    (parenthesized_type)
  ]) @definition.type

; `type A = B`
(type_alias
  name: (type_identifier) @name) @definition.type

; Package-level `const` and `var` (one match per name).
; (`name:` is not used for const_spec: the grammar also labels the `,` between
; names as `name`, and then only the first name would match.)
(source_file
  (const_declaration
    (const_spec
      (identifier) @name) @definition.constant))

(source_file
  (var_declaration
    (var_spec
      name: (identifier) @name) @definition.constant))

(source_file
  (var_declaration
    (var_spec_list
      (var_spec
        name: (identifier) @name) @definition.constant)))

; ----------------------------------------------------------------- references

; Calls: `f()`, `pkg.F()`, `a.b.C()` -> the last identifier.
(call_expression
  function: [
    (identifier) @name
    (parenthesized_expression (identifier) @name)
    (selector_expression field: (field_identifier) @name)
    (parenthesized_expression (selector_expression field: (field_identifier) @name))
  ]) @reference.call

; `import "fmt"` / `import log "github.com/x/logrus"` -> the import path.
(import_spec
  path: [
    (interpreted_string_literal (interpreted_string_literal_content) @name)
    (raw_string_literal (raw_string_literal_content) @name)
  ]) @reference.import

; Embedded struct fields and embedded interfaces.
(field_declaration_list
  (field_declaration
    !name
    type: [
      (type_identifier) @name
      (qualified_type name: (type_identifier) @name)
      (pointer_type (type_identifier) @name)
      (pointer_type (qualified_type name: (type_identifier) @name))
      (generic_type type: (type_identifier) @name)
    ]) @reference.inherit)

(interface_type
  (type_elem
    .
    [
      (type_identifier) @name
      (qualified_type name: (type_identifier) @name)
      (generic_type type: (type_identifier) @name)
    ]
    .) @reference.inherit)

; Type identifiers in type positions (not the names being declared); the
; reference node is the type identifier itself.
[
  (parameter_declaration type: (type_identifier) @name @reference.type)
  (variadic_parameter_declaration type: (type_identifier) @name @reference.type)
  (field_declaration type: (type_identifier) @name @reference.type)
  (pointer_type (type_identifier) @name @reference.type)
  (slice_type element: (type_identifier) @name @reference.type)
  (array_type element: (type_identifier) @name @reference.type)
  (map_type key: (type_identifier) @name @reference.type)
  (map_type value: (type_identifier) @name @reference.type)
  (channel_type value: (type_identifier) @name @reference.type)
  (qualified_type name: (type_identifier) @name @reference.type)
  (generic_type type: (type_identifier) @name @reference.type)
  (type_elem (type_identifier) @name @reference.type)
  (negated_type (type_identifier) @name @reference.type)
  (type_constraint (type_identifier) @name @reference.type)
  (composite_literal type: (type_identifier) @name @reference.type)
  (function_declaration result: (type_identifier) @name @reference.type)
  (method_declaration result: (type_identifier) @name @reference.type)
  (method_elem result: (type_identifier) @name @reference.type)
  (function_type result: (type_identifier) @name @reference.type)
  (func_literal result: (type_identifier) @name @reference.type)
  (var_spec type: (type_identifier) @name @reference.type)
  (const_spec type: (type_identifier) @name @reference.type)
  (type_spec type: (type_identifier) @name @reference.type)
  (type_alias type: (type_identifier) @name @reference.type)
  (type_assertion_expression type: (type_identifier) @name @reference.type)
  (type_case type: (type_identifier) @name @reference.type)
  (type_conversion_expression type: (type_identifier) @name @reference.type)
]
