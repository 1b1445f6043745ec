; Tag query for Lua.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

; `function f()`, `local function f()`, `function M.f()`, `function a.b.f()` -> f
(function_declaration
  name: [
    (identifier) @name
    (dot_index_expression field: (identifier) @name)
  ]) @definition.function

; `function M:f()` -> f
(function_declaration
  name: (method_index_expression
    method: (identifier) @name)) @definition.method

; `f = function() end`, `local f = function() end`, `M.f = function() end`
(assignment_statement
  (variable_list
    .
    name: [
      (identifier) @name
      (dot_index_expression field: (identifier) @name)
    ])
  (expression_list
    .
    value: (function_definition))) @definition.function

; `{ f = function() end }`
(field
  name: (identifier) @name
  value: (function_definition)) @definition.function

; File-level `NAME = value` / `local NAME = value` (single name, non-function value).
(chunk
  (assignment_statement
    (variable_list
      .
      name: (identifier) @name
      .)
    (expression_list
      .
      value: [
        (number) (string) (true) (false) (nil)
        (table_constructor) (function_call)
        (identifier) (dot_index_expression) (bracket_index_expression)
        (binary_expression) (unary_expression) (parenthesized_expression)
      ])) @definition.constant)

(chunk
  (variable_declaration
    (assignment_statement
      (variable_list
        .
        name: (identifier) @name
        .)
      (expression_list
        .
        value: [
          (number) (string) (true) (false) (nil)
          (table_constructor) (function_call)
          (identifier) (dot_index_expression) (bracket_index_expression)
          (binary_expression) (unary_expression) (parenthesized_expression)
        ])) @definition.constant))

; ----------------------------------------------------------------- references

; Calls: `f()`, `a.b.f()`, `obj:m()` -> the last identifier.
(function_call
  name: [
    (identifier) @name
    (dot_index_expression field: (identifier) @name)
    (method_index_expression method: (identifier) @name)
  ]) @reference.call

; `require("a.b")` / `require "a.b"` -> the module name.
((function_call
  name: (identifier)
  arguments: (arguments
    .
    (string
      content: (string_content) @name))) @reference.import
  (#match? @reference.import "^require[ \t(\"']"))
