; Tag query for Java.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(class_declaration
  name: (identifier) @name) @definition.class

(record_declaration
  name: (identifier) @name) @definition.class

(interface_declaration
  name: (identifier) @name) @definition.interface

(annotation_type_declaration
  name: (identifier) @name) @definition.interface

(enum_declaration
  name: (identifier) @name) @definition.enum

(method_declaration
  name: (identifier) @name) @definition.method

(constructor_declaration
  name: (identifier) @name) @definition.method

; `static final` fields (one match per declarator).
(field_declaration
  [
    (modifiers "static" "final")
    (modifiers "final" "static")
  ]
  declarator: (variable_declarator
    name: (identifier) @name) @definition.constant)

; ----------------------------------------------------------------- references

(method_invocation
  name: (identifier) @name) @reference.call

(object_creation_expression
  type: [
    (type_identifier) @name
    (scoped_type_identifier (type_identifier) @name .)
    (generic_type (type_identifier) @name)
    (generic_type (scoped_type_identifier (type_identifier) @name .))
  ]) @reference.new

; `import a.b.C;`, `import a.b.*;`, `import static a.B.c;` -> the dotted path.
(import_declaration
  [
    (identifier)
    (scoped_identifier)
  ] @name) @reference.import

(superclass
  [
    (type_identifier) @name
    (scoped_type_identifier (type_identifier) @name .)
    (generic_type (type_identifier) @name)
    (generic_type (scoped_type_identifier (type_identifier) @name .))
  ]) @reference.inherit

(super_interfaces
  (type_list
    [
      (type_identifier) @name
      (scoped_type_identifier (type_identifier) @name .)
      (generic_type (type_identifier) @name)
      (generic_type (scoped_type_identifier (type_identifier) @name .))
    ])) @reference.inherit

(extends_interfaces
  (type_list
    [
      (type_identifier) @name
      (scoped_type_identifier (type_identifier) @name .)
      (generic_type (type_identifier) @name)
      (generic_type (scoped_type_identifier (type_identifier) @name .))
    ])) @reference.inherit

; Type identifiers in type positions (not the names being declared); the
; reference node is the type identifier itself.
[
  (formal_parameter type: (type_identifier) @name @reference.type)
  (spread_parameter (type_identifier) @name @reference.type)
  (catch_type (type_identifier) @name @reference.type)
  (field_declaration type: (type_identifier) @name @reference.type)
  (local_variable_declaration type: (type_identifier) @name @reference.type)
  (method_declaration type: (type_identifier) @name @reference.type)
  (generic_type (type_identifier) @name @reference.type)
  (type_arguments (type_identifier) @name @reference.type)
  (array_type element: (type_identifier) @name @reference.type)
  (scoped_type_identifier (type_identifier) @name @reference.type .)
  (wildcard (type_identifier) @name @reference.type)
  (type_bound (type_identifier) @name @reference.type)
  (throws (type_identifier) @name @reference.type)
  (cast_expression type: (type_identifier) @name @reference.type)
  (instanceof_expression right: (type_identifier) @name @reference.type)
  (class_literal (type_identifier) @name @reference.type)
  (object_creation_expression type: (type_identifier) @name @reference.type)
]
