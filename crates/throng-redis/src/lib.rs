//! throng-redis: a Redis client for load. A [`RedisClient`] keeps one multiplexed
//! connection per server (shared by every VU, reopened after a failure) and
//! [`RedisClient::execute`] sends one command or a pipeline, returning the reply as JSON
//! with its timing in a [`RedisResponse`]. It records no metrics: the flow does
//! (`redis_command_duration`, `redis_commands`, `redis_errors`).
#![warn(missing_docs)]

mod client;
mod error;

pub use client::{RedisClient, RedisResponse};
pub use error::RedisError;
