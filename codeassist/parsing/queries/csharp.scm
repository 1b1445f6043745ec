; Tag query for C#.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(class_declaration
  name: (identifier) @name) @definition.class

(record_declaration
  name: (identifier) @name) @definition.class

(interface_declaration
  name: (identifier) @name) @definition.interface

(struct_declaration
  name: (identifier) @name) @definition.struct

(enum_declaration
  name: (identifier) @name) @definition.enum

(delegate_declaration
  name: (identifier) @name) @definition.type

(namespace_declaration
  name: [
    (identifier)
    (qualified_name)
  ] @name) @definition.module

; `namespace A.B;` (the node covers only the declaration line).
(file_scoped_namespace_declaration
  name: [
    (identifier)
    (qualified_name)
  ] @name) @definition.module

(method_declaration
  name: (identifier) @name) @definition.method

(constructor_declaration
  name: (identifier) @name) @definition.method

; Properties are reported as methods (accessor pairs).
(property_declaration
  name: (identifier) @name) @definition.method

; `const` fields (one match per declarator).
(field_declaration
  (modifier "const")
  (variable_declaration
    (variable_declarator
      name: (identifier) @name) @definition.constant))

; ----------------------------------------------------------------- references

; Calls: `F()`, `a.B.C()`, `F<T>()`, `a.F<T>()` -> the last identifier.
(invocation_expression
  function: [
    (identifier) @name
    (generic_name (identifier) @name)
    (member_access_expression name: (identifier) @name)
    (member_access_expression name: (generic_name (identifier) @name))
  ]) @reference.call

(object_creation_expression
  type: [
    (identifier) @name
    (generic_name (identifier) @name)
    (qualified_name name: (identifier) @name)
    (qualified_name name: (generic_name (identifier) @name))
  ]) @reference.new

; `using System.Text;`, `using static System.Math;`, `using Alias = A.B;` -> the namespace/type.
(using_directive
  [
    (identifier)
    (qualified_name)
  ] @name
  .) @reference.import

; `class A : Base, IFoo<T>, Ns.IBar`
(base_list
  [
    (identifier) @name
    (generic_name (identifier) @name)
    (qualified_name name: (identifier) @name)
    (qualified_name name: (generic_name (identifier) @name))
  ]) @reference.inherit

; Type names in type positions (plain, generic `List<T>`, qualified `A.B`);
; the reference node is the identifier itself.
[
  (parameter type: (identifier) @name @reference.type)
  (parameter type: (generic_name . (identifier) @name @reference.type))
  (parameter type: (qualified_name name: (identifier) @name @reference.type))
  (parameter type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (variable_declaration type: (identifier) @name @reference.type)
  (variable_declaration type: (generic_name . (identifier) @name @reference.type))
  (variable_declaration type: (qualified_name name: (identifier) @name @reference.type))
  (variable_declaration type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (method_declaration returns: (identifier) @name @reference.type)
  (method_declaration returns: (generic_name . (identifier) @name @reference.type))
  (method_declaration returns: (qualified_name name: (identifier) @name @reference.type))
  (method_declaration returns: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (property_declaration type: (identifier) @name @reference.type)
  (property_declaration type: (generic_name . (identifier) @name @reference.type))
  (property_declaration type: (qualified_name name: (identifier) @name @reference.type))
  (property_declaration type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (operator_declaration type: (identifier) @name @reference.type)
  (operator_declaration type: (generic_name . (identifier) @name @reference.type))
  (operator_declaration type: (qualified_name name: (identifier) @name @reference.type))
  (operator_declaration type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (delegate_declaration type: (identifier) @name @reference.type)
  (delegate_declaration type: (generic_name . (identifier) @name @reference.type))
  (delegate_declaration type: (qualified_name name: (identifier) @name @reference.type))
  (delegate_declaration type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (array_type type: (identifier) @name @reference.type)
  (array_type type: (generic_name . (identifier) @name @reference.type))
  (array_type type: (qualified_name name: (identifier) @name @reference.type))
  (array_type type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (nullable_type type: (identifier) @name @reference.type)
  (nullable_type type: (generic_name . (identifier) @name @reference.type))
  (nullable_type type: (qualified_name name: (identifier) @name @reference.type))
  (nullable_type type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (cast_expression type: (identifier) @name @reference.type)
  (cast_expression type: (generic_name . (identifier) @name @reference.type))
  (cast_expression type: (qualified_name name: (identifier) @name @reference.type))
  (cast_expression type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (declaration_pattern type: (identifier) @name @reference.type)
  (declaration_pattern type: (generic_name . (identifier) @name @reference.type))
  (declaration_pattern type: (qualified_name name: (identifier) @name @reference.type))
  (declaration_pattern type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (type_parameter_constraint type: (identifier) @name @reference.type)
  (type_parameter_constraint type: (generic_name . (identifier) @name @reference.type))
  (type_parameter_constraint type: (qualified_name name: (identifier) @name @reference.type))
  (type_parameter_constraint type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (object_creation_expression type: (identifier) @name @reference.type)
  (object_creation_expression type: (generic_name . (identifier) @name @reference.type))
  (object_creation_expression type: (qualified_name name: (identifier) @name @reference.type))
  (object_creation_expression type: (qualified_name name: (generic_name . (identifier) @name @reference.type)))
  (type_argument_list (identifier) @name @reference.type)
  (type_argument_list (generic_name . (identifier) @name @reference.type))
  (type_argument_list (qualified_name name: (identifier) @name @reference.type))
  (type_argument_list (qualified_name name: (generic_name . (identifier) @name @reference.type)))
]
