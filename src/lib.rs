//! bpharness: contract and load testing for servers that speak the Botpress Cloud API,
//! with an embedded reference server as the default target.

pub mod api;
pub mod capture;
pub mod cli;
pub mod contract;
pub mod drift;
pub mod exit;
pub mod fuzz;
pub mod infer;
pub mod load;
pub mod report;
pub mod runner;
pub mod scenario;
pub mod selftest;
pub mod server;
pub mod suite;
pub mod target;
