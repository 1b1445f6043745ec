; Tag query for TSX, appended to typescript.scm (see languages.py): JSX component references.
; Contract: every pattern has exactly one @definition.<kind> or @reference.<kind> capture plus one @name capture.

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
