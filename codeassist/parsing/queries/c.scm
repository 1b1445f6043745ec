; Tag query for C.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

; Function definitions; the name sits inside the (possibly pointer) declarator.
(function_definition
  declarator: [
    (function_declarator declarator: (identifier) @name)
    (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))
    (pointer_declarator declarator: (pointer_declarator declarator: (function_declarator declarator: (identifier) @name)))
    (function_declarator declarator: (parenthesized_declarator (pointer_declarator declarator: (function_declarator declarator: (identifier) @name))))
  ]) @definition.function

; struct / union / enum with a body.
(struct_specifier
  name: (type_identifier) @name
  body: (_)) @definition.struct

(union_specifier
  name: (type_identifier) @name
  body: (_)) @definition.struct

(enum_specifier
  name: (type_identifier) @name
  body: (_)) @definition.enum

; typedefs. When the typedef wraps a *named* struct/union/enum body, the struct
; is its own definition and the typedef's definition node is just its name (so
; the struct does not look nested in the typedef).
(type_definition
  type: [
    (struct_specifier name: (_) body: (_))
    (union_specifier name: (_) body: (_))
    (enum_specifier name: (_) body: (_))
  ]
  declarator: [
    (type_identifier) @name @definition.type
    (pointer_declarator declarator: (type_identifier) @name @definition.type)
  ])

(type_definition
  type: [
    (struct_specifier !name body: (_))
    (union_specifier !name body: (_))
    (enum_specifier !name body: (_))
    (struct_specifier !body)
    (union_specifier !body)
    (enum_specifier !body)
    (primitive_type)
    (sized_type_specifier)
    (type_identifier)
    (macro_type_specifier)
  ]
  declarator: [
    (type_identifier) @name
    (pointer_declarator declarator: (type_identifier) @name)
    (pointer_declarator declarator: (pointer_declarator declarator: (type_identifier) @name))
    (array_declarator declarator: (type_identifier) @name)
    (function_declarator declarator: (parenthesized_declarator (pointer_declarator declarator: (type_identifier) @name)))
  ]) @definition.type

; Macros: `#define NAME ...` and `#define NAME(args) ...`
(preproc_def
  name: (identifier) @name) @definition.macro

(preproc_function_def
  name: (identifier) @name) @definition.macro

; File-level `const` variables (also inside #if/#ifdef blocks, e.g. header guards).
[
  (translation_unit
    (declaration
      (type_qualifier "const")
      declarator: (init_declarator
        declarator: [
          (identifier) @name
          (array_declarator declarator: (identifier) @name)
          (pointer_declarator declarator: (identifier) @name)
          (pointer_declarator declarator: (array_declarator declarator: (identifier) @name))
        ])) @definition.constant)
  (preproc_ifdef
    (declaration
      (type_qualifier "const")
      declarator: (init_declarator
        declarator: [
          (identifier) @name
          (array_declarator declarator: (identifier) @name)
          (pointer_declarator declarator: (identifier) @name)
          (pointer_declarator declarator: (array_declarator declarator: (identifier) @name))
        ])) @definition.constant)
  (preproc_if
    (declaration
      (type_qualifier "const")
      declarator: (init_declarator
        declarator: [
          (identifier) @name
          (array_declarator declarator: (identifier) @name)
          (pointer_declarator declarator: (identifier) @name)
          (pointer_declarator declarator: (array_declarator declarator: (identifier) @name))
        ])) @definition.constant)
]

; ----------------------------------------------------------------- references

(call_expression
  function: [
    (identifier) @name
    (field_expression field: (field_identifier) @name)
    (parenthesized_expression (identifier) @name)
  ]) @reference.call

; `#include "path.h"` -> path.h ; `#include <stdio.h>` -> <stdio.h>
(preproc_include
  path: [
    (string_literal (string_content) @name)
    (system_lib_string) @name
  ]) @reference.import

; `struct foo *p` (a struct/union/enum used without a body).
(struct_specifier
  name: (type_identifier) @name
  !body) @reference.type

(union_specifier
  name: (type_identifier) @name
  !body) @reference.type

(enum_specifier
  name: (type_identifier) @name
  !body) @reference.type

; Typedef names in type positions; the reference node is the type identifier itself.
[
  (declaration type: (type_identifier) @name @reference.type)
  (parameter_declaration type: (type_identifier) @name @reference.type)
  (field_declaration type: (type_identifier) @name @reference.type)
  (function_definition type: (type_identifier) @name @reference.type)
  (type_descriptor type: (type_identifier) @name @reference.type)
  (type_definition type: (type_identifier) @name @reference.type)
]
