; Tag query for TypeScript (tsx.scm is this file plus JSX component references).
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(class_declaration
  name: (type_identifier) @name) @definition.class

(abstract_class_declaration
  name: (type_identifier) @name) @definition.class

; `const Foo = class { ... }`
(variable_declarator
  name: (identifier) @name
  value: (class)) @definition.class

(interface_declaration
  name: (type_identifier) @name) @definition.interface

(type_alias_declaration
  name: (type_identifier) @name) @definition.type

(enum_declaration
  name: (identifier) @name) @definition.enum

; `namespace A.B {}` / `module M {}` / `declare module "m" {}`
(internal_module
  name: [
    (identifier)
    (nested_identifier)
  ] @name) @definition.module

(module
  name: [
    (identifier) @name
    (nested_identifier) @name
    (string (string_fragment) @name)
  ]) @definition.module

(method_definition
  name: [
    (property_identifier)
    (private_property_identifier)
  ] @name) @definition.method

(method_signature
  name: (property_identifier) @name) @definition.method

(abstract_method_signature
  name: (property_identifier) @name) @definition.method

; Class fields holding functions: `handle = () => {}`
(public_field_definition
  name: [
    (property_identifier)
    (private_property_identifier)
  ] @name
  value: [
    (arrow_function)
    (function_expression)
  ]) @definition.method

(function_declaration
  name: (identifier) @name) @definition.function

(generator_function_declaration
  name: (identifier) @name) @definition.function

; Overload signatures and `declare function f(): T;`
(function_signature
  name: (identifier) @name) @definition.function

; `const f = () => {}`, `let f = function () {}` at any level.
(variable_declarator
  name: (identifier) @name
  value: [
    (arrow_function)
    (function_expression)
    (generator_function)
  ]) @definition.function

; `f = () => {}`, `module.exports.f = function () {}`
(assignment_expression
  left: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]
  right: [
    (arrow_function)
    (function_expression)
    (generator_function)
  ]) @definition.function

; `{ key: () => {} }`
(pair
  key: (property_identifier) @name
  value: [
    (arrow_function)
    (function_expression)
    (generator_function)
  ]) @definition.function

; Program-level `const X = <non-function value>` (plain or exported).
(program
  (lexical_declaration
    "const"
    (variable_declarator
      name: (identifier) @name
      value: [
        (number) (string) (template_string) (regex)
        (true) (false) (null) (undefined)
        (object) (array)
        (identifier) (member_expression) (subscript_expression)
        (call_expression) (new_expression) (await_expression)
        (unary_expression) (binary_expression) (ternary_expression)
        (parenthesized_expression)
        (as_expression) (satisfies_expression) (non_null_expression)
      ]) @definition.constant))

(program
  (export_statement
    declaration: (lexical_declaration
      "const"
      (variable_declarator
        name: (identifier) @name
        value: [
          (number) (string) (template_string) (regex)
          (true) (false) (null) (undefined)
          (object) (array)
          (identifier) (member_expression) (subscript_expression)
          (call_expression) (new_expression) (await_expression)
          (unary_expression) (binary_expression) (ternary_expression)
          (parenthesized_expression)
          (as_expression) (satisfies_expression) (non_null_expression)
        ]) @definition.constant)))

; ----------------------------------------------------------------- references

; Calls: `f()`, `a.b.c()` -> the last identifier.
(call_expression
  function: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.call

(new_expression
  constructor: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.new

; `import ... from "m"` / `import "m"` / `export ... from "m"` -> the module.
(import_statement
  source: (string (string_fragment) @name)) @reference.import

(export_statement
  source: (string (string_fragment) @name)) @reference.import

; Imported names: `import {a, type b, c as d} from "m"`, `import d from "m"`.
(import_statement
  (import_clause
    (named_imports
      (import_specifier name: (identifier) @name)))) @reference.import

(import_statement
  (import_clause
    (identifier) @name)) @reference.import

; `import fs = require("fs")`
(import_require_clause
  source: (string (string_fragment) @name)) @reference.import

; `class A extends B` / `extends ns.B`
(extends_clause
  value: [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.inherit

; `class A implements I, ns.J, K<T>` / `interface I extends J, K<T>`
(implements_clause
  [
    (type_identifier) @name
    (nested_type_identifier name: (type_identifier) @name)
    (generic_type name: (type_identifier) @name)
    (generic_type name: (nested_type_identifier name: (type_identifier) @name))
  ]) @reference.inherit

(extends_type_clause
  type: [
    (type_identifier) @name
    (nested_type_identifier name: (type_identifier) @name)
    (generic_type name: (type_identifier) @name)
    (generic_type name: (nested_type_identifier name: (type_identifier) @name))
  ]) @reference.inherit

; Type identifiers in type positions (not the names being declared); the
; reference node is the type identifier itself.
[
  (type_annotation (type_identifier) @name @reference.type)
  (type_arguments (type_identifier) @name @reference.type)
  (generic_type name: (type_identifier) @name @reference.type)
  (nested_type_identifier name: (type_identifier) @name @reference.type)
  (union_type (type_identifier) @name @reference.type)
  (intersection_type (type_identifier) @name @reference.type)
  (array_type (type_identifier) @name @reference.type)
  (tuple_type (type_identifier) @name @reference.type)
  (parenthesized_type (type_identifier) @name @reference.type)
  (readonly_type (type_identifier) @name @reference.type)
  (index_type_query (type_identifier) @name @reference.type)
  (lookup_type (type_identifier) @name @reference.type)
  (constraint (type_identifier) @name @reference.type)
  (function_type return_type: (type_identifier) @name @reference.type)
  (type_alias_declaration value: (type_identifier) @name @reference.type)
  (as_expression (type_identifier) @name @reference.type)
  (satisfies_expression (type_identifier) @name @reference.type)
]
