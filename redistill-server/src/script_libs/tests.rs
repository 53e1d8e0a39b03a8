//! Unit and property tests for the script libraries.
