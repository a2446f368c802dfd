"""One module per kind of channel, each registering its `alerts.notifications.Channel` when imported (all of them
are, by AlertsConfig.ready())."""
