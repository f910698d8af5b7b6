//! bpharness: contract and load testing for servers that speak the Botpress Cloud API,
//! with an embedded reference server as the default target.

pub mod api;
pub mod cli;
pub mod contract;
pub mod exit;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod selftest;
pub mod server;
