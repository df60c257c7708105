//! autocandle: AutoML for deep learning in Rust.
pub mod data;
pub mod error;
pub mod hyperparameters;
pub mod kernels;
pub use error::{Error, Result};
