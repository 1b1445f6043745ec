; Tag query for JavaScript (also used for .jsx files).
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(class_declaration
  name: (identifier) @name) @definition.class

; `const Foo = class { ... }`
(variable_declarator
  name: (identifier) @name
  value: (class)) @definition.class

(method_definition
  name: [
    (property_identifier)
    (private_property_identifier)
  ] @name) @definition.method

; Class fields holding functions: `handle = () => {}`
(field_definition
  property: [
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

; `const f = () => {}`, `let f = function () {}`, `var g = function* () {}` at any level.
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

; Imported names: `import {a, b as c} from "m"`, `import d from "m"`.
(import_statement
  (import_clause
    (named_imports
      (import_specifier name: (identifier) @name)))) @reference.import

(import_statement
  (import_clause
    (identifier) @name)) @reference.import

; `class A extends B`, `class A extends ns.B`
(class_heritage
  [
    (identifier) @name
    (member_expression property: (property_identifier) @name)
  ]) @reference.inherit

; JSX components: `<Foo />`, `<Foo>...</Foo>`, `<ui.Button />` (lower-case tags are HTML).
((jsx_opening_element
  name: (identifier) @name) @reference.call
  (#match? @name "^[A-Z]"))

((jsx_self_closing_element
  name: (identifier) @name) @reference.call
  (#match? @name "^[A-Z]"))

(jsx_opening_element
  name: (member_expression property: (property_identifier) @name)) @reference.call

(jsx_self_closing_element
  name: (member_expression property: (property_identifier) @name)) @reference.call
