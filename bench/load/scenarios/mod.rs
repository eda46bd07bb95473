//! One module per scenario; each measures a figure and its baseline in the same run.

mod compliance;
mod fanout;
mod login;
mod reads;
mod seat_race;
mod startup;

use anyhow::Result;

use crate::{Context, Scenario, report::Section};

/// Returns the heading of a scenario in the report.
pub fn title(scenario: Scenario) -> &'static str {
    match scenario {
        Scenario::Login => "1. Password login",
        Scenario::Reads => "2. Authenticated reads",
        Scenario::SeatRace => "3. Seat race",
        Scenario::Fanout => "4. Subscription fan-out",
        Scenario::Compliance => "5. Compliance report",
        Scenario::Startup => "6. Start-up and idle memory",
    }
}

/// Runs one scenario and returns its section of the report.
pub async fn run(ctx: &Context, scenario: Scenario) -> Result<Section> {
    let title = title(scenario);
    match scenario {
        Scenario::Login => login::run(ctx, title).await,
        Scenario::Reads => reads::run(ctx, title).await,
        Scenario::SeatRace => seat_race::run(ctx, title).await,
        Scenario::Fanout => fanout::run(ctx, title).await,
        Scenario::Compliance => compliance::run(ctx, title).await,
        Scenario::Startup => startup::run(ctx, title).await,
    }
}
