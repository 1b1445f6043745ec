; Tag query for Python.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

(class_definition
  name: (identifier) @name) @definition.class

; Functions; the extractor turns functions nested in classes into methods.
(function_definition
  name: (identifier) @name) @definition.function

; Module-level constants: `NAME = ...` / `NAME: T = ...` directly under module.
(module
  (expression_statement
    (assignment
      left: (identifier) @name) @definition.constant))

; ----------------------------------------------------------------- references

; Calls: `f()`, `a.b.c()` -> the last identifier.
(call
  function: [
    (identifier) @name
    (attribute attribute: (identifier) @name)
  ]) @reference.call

; `import a.b`, `import a.b as c`
(import_statement
  name: [
    (dotted_name) @name
    (aliased_import name: (dotted_name) @name)
  ]) @reference.import

; `from x.y import z` -> the module `x.y` ...
(import_from_statement
  module_name: [
    (dotted_name) @name
    (relative_import) @name
  ]) @reference.import

; ... and each imported name `z` (also `z as w`).
(import_from_statement
  name: [
    (dotted_name) @name
    (aliased_import name: (dotted_name) @name)
  ]) @reference.import

; Base classes: `class A(B, mod.C)` (keyword arguments such as metaclass= are skipped).
(class_definition
  superclasses: (argument_list
    [
      (identifier) @name
      (attribute attribute: (identifier) @name)
    ]) @reference.inherit)

; Type annotations: `x: Foo`, `-> mod.Bar`, `Optional[Baz]`.
(type
  [
    (identifier) @name
    (attribute attribute: (identifier) @name)
    (generic_type (identifier) @name)
  ]) @reference.type
