; Tag query for Rust.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(struct_item
  name: (type_identifier) @name) @definition.struct

(union_item
  name: (type_identifier) @name) @definition.struct

(enum_item
  name: (type_identifier) @name) @definition.enum

(trait_item
  name: (type_identifier) @name) @definition.trait

(type_item
  name: (type_identifier) @name) @definition.type

(mod_item
  name: (identifier) @name) @definition.module

(macro_definition
  name: (identifier) @name) @definition.macro

; Methods: functions in `impl` and `trait` blocks (provided and required).
(impl_item
  body: (declaration_list
    (function_item
      name: (identifier) @name) @definition.method))

(trait_item
  body: (declaration_list
    [
      (function_item name: (identifier) @name)
      (function_signature_item name: (identifier) @name)
    ] @definition.method))

; Free functions: at file level, in `mod { }`, nested in blocks, in `extern { }`.
(source_file
  (function_item
    name: (identifier) @name) @definition.function)

(mod_item
  body: (declaration_list
    (function_item
      name: (identifier) @name) @definition.function))

(block
  (function_item
    name: (identifier) @name) @definition.function)

(foreign_mod_item
  body: (declaration_list
    (function_signature_item
      name: (identifier) @name) @definition.function))

; Module-level `const` / `static`.
(source_file
  [
    (const_item name: (identifier) @name)
    (static_item name: (identifier) @name)
  ] @definition.constant)

(mod_item
  body: (declaration_list
    [
      (const_item name: (identifier) @name)
      (static_item name: (identifier) @name)
    ] @definition.constant))

; ----------------------------------------------------------------- references

; Calls: `f()`, `a.b()`, `m::f()`, `T::new()`, `x.f::<T>()` -> the last identifier.
(call_expression
  function: [
    (identifier) @name
    (field_expression field: (field_identifier) @name)
    (scoped_identifier name: (identifier) @name)
    (generic_function function: (identifier) @name)
    (generic_function function: (field_expression field: (field_identifier) @name))
    (generic_function function: (scoped_identifier name: (identifier) @name))
  ]) @reference.call

; Macro invocations: `println!(...)`, `log::debug!(...)`.
(macro_invocation
  macro: [
    (identifier) @name
    (scoped_identifier name: (identifier) @name)
  ]) @reference.call

; `use a::b::C;`, `use a::b as c;`, `use a::b::*;` -> the path.
(use_declaration
  argument: [
    (identifier) @name
    (scoped_identifier) @name
    (use_as_clause path: (_) @name)
    (use_wildcard [(identifier) (scoped_identifier)] @name)
    (scoped_use_list path: (_) @name)
  ]) @reference.import

; `use a::{b, c::d, e as f, g::{h}, i::*}` -> each item.
(use_list
  [
    (identifier) @name
    (scoped_identifier) @name
    (use_as_clause path: (_) @name)
    (use_wildcard [(identifier) (scoped_identifier)] @name)
    (scoped_use_list path: (_) @name)
  ]) @reference.import

; `impl Trait for Type` -> Trait.
(impl_item
  trait: [
    (type_identifier) @name
    (scoped_type_identifier name: (type_identifier) @name)
    (generic_type type: (type_identifier) @name)
    (generic_type type: (scoped_type_identifier name: (type_identifier) @name))
  ] @reference.inherit)

; Supertraits: `trait A: B + C`.
(trait_item
  bounds: (trait_bounds
    [
      (type_identifier) @name
      (scoped_type_identifier name: (type_identifier) @name)
      (generic_type type: (type_identifier) @name)
    ]) @reference.inherit)

; Type identifiers in type positions (not the names being declared); the
; reference node is the type identifier itself.
[
  (parameter type: (type_identifier) @name @reference.type)
  (field_declaration type: (type_identifier) @name @reference.type)
  (ordered_field_declaration_list type: (type_identifier) @name @reference.type)
  (function_item return_type: (type_identifier) @name @reference.type)
  (function_signature_item return_type: (type_identifier) @name @reference.type)
  (function_type return_type: (type_identifier) @name @reference.type)
  (closure_expression return_type: (type_identifier) @name @reference.type)
  (let_declaration type: (type_identifier) @name @reference.type)
  (const_item type: (type_identifier) @name @reference.type)
  (static_item type: (type_identifier) @name @reference.type)
  (type_item type: (type_identifier) @name @reference.type)
  (impl_item type: (type_identifier) @name @reference.type)
  (generic_type type: (type_identifier) @name @reference.type)
  (type_arguments (type_identifier) @name @reference.type)
  (scoped_type_identifier name: (type_identifier) @name @reference.type)
  (reference_type type: (type_identifier) @name @reference.type)
  (pointer_type type: (type_identifier) @name @reference.type)
  (array_type element: (type_identifier) @name @reference.type)
  (tuple_type (type_identifier) @name @reference.type)
  (abstract_type trait: (type_identifier) @name @reference.type)
  (dynamic_type trait: (type_identifier) @name @reference.type)
  (trait_bounds (type_identifier) @name @reference.type)
  (type_cast_expression type: (type_identifier) @name @reference.type)
  (struct_expression name: (type_identifier) @name @reference.type)
]
