//! Every error message a user can trigger names the file, the hook or the
//! field at fault (those not already covered by tests/refusals.rs).

mod support;
