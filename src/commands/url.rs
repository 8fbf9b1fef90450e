//! `url`: print the full DATABASE_URL, and nothing else, on stdout.

use crate::commands::{connect, running_container};
use crate::config::Config;
use crate::error::Error;

/// Runs `url`.
pub async fn url(config: &Config) -> Result<(), Error> {
    let engine = connect(config).await?;
    let result = running_container(&engine, config).await;
    engine.close().await;
    let (_, info) = result?;
    println!("{}", info.url());
    Ok(())
}
