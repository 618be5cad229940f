//! What a stack keeps between runs under `.hookhost/`: the journal of every
//! run and the lock that lets one run at a time change the stack.

pub mod journal;
pub mod runlock;
