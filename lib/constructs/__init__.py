"""One construct per concern; `lib.tap_stack.TapStack` composes them."""
