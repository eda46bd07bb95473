//! Idle timeouts and lifetimes of sessions per channel.

use chrono::TimeDelta;
use entity::Channel;

use super::throttle::ThrottlePolicy;
use crate::config::Config;

/// Deadlines of one channel's sessions.
#[derive(Debug, Clone, Copy)]
pub struct ChannelTimeouts {
    pub idle: TimeDelta,
    pub lifetime: TimeDelta,
}

impl ChannelTimeouts {
    /// Minimum time between two writes of a session's last-seen instant:
    /// min(60 s, idle timeout / 10), so a short idle timeout is never cut
    /// short by the throttle.
    pub fn activity_write_interval(&self) -> TimeDelta {
        (self.idle / 10).min(TimeDelta::seconds(60))
    }
}

/// Session deadlines for every channel, the web-session limit and the login throttles.
#[derive(Debug, Clone, Copy)]
pub struct SessionPolicy {
    pub web: ChannelTimeouts,
    pub mobile: ChannelTimeouts,
    pub api: ChannelTimeouts,
    /// Live WEB sessions a NAMED or CONCURRENT user may hold while the slice's mode is WARN or ENFORCE.
    pub max_web_sessions: usize,
    pub throttle: ThrottlePolicy,
}

impl SessionPolicy {
    pub fn from_config(config: &Config) -> Self {
        let delta = |d: std::time::Duration| TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX);
        Self {
            web: ChannelTimeouts { idle: delta(config.web_idle_timeout), lifetime: delta(config.web_max_lifetime) },
            mobile: ChannelTimeouts {
                idle: delta(config.mobile_idle_timeout),
                lifetime: delta(config.mobile_max_lifetime),
            },
            api: ChannelTimeouts { idle: delta(config.api_idle_timeout), lifetime: delta(config.api_max_lifetime) },
            max_web_sessions: config.max_web_sessions as usize,
            throttle: ThrottlePolicy::from_config(config),
        }
    }

    pub fn for_channel(&self, channel: Channel) -> ChannelTimeouts {
        match channel {
            Channel::Web => self.web,
            Channel::Mobile => self.mobile,
            Channel::Api => self.api,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_interval_is_capped_and_scaled() {
        let long = ChannelTimeouts { idle: TimeDelta::minutes(30), lifetime: TimeDelta::hours(12) };
        assert_eq!(long.activity_write_interval(), TimeDelta::seconds(60));
        let short = ChannelTimeouts { idle: TimeDelta::seconds(20), lifetime: TimeDelta::hours(1) };
        assert_eq!(short.activity_write_interval(), TimeDelta::seconds(2));
    }
}
