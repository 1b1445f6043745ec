; Tag query for Bash / sh / zsh scripts.
; Contract: every pattern has exactly one @definition.<kind> or
; @reference.<kind> capture plus one @name capture.

; ---------------------------------------------------------------- definitions

; `name() { ... }` and `function name { ... }`
(function_definition
  name: (word) @name) @definition.function

; Top-level `NAME=value` and `readonly/export/declare NAME=value`.
(program
  (variable_assignment
    name: (variable_name) @name) @definition.constant)

(program
  (declaration_command
    (variable_assignment
      name: (variable_name) @name) @definition.constant))

; ----------------------------------------------------------------- references

; Every simple command invokes a function, builtin or program: `deploy_app "$1"`.
(command
  name: (command_name
    (word) @name)) @reference.call

; `source lib.sh` / `. "$DIR/lib.sh"` -> the sourced path (first argument).
((command
  name: (command_name)
  .
  argument: [
    (word)
    (string)
    (raw_string)
    (concatenation)
  ] @name) @reference.import
  (#match? @reference.import "^(source|\\.)[ \t]"))
