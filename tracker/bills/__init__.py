"""Federal bills as pure functions: `billstatus` reads a BILLSTATUS file into the `Bill` record,
`stages` says how far it got, `diff` what changed between two states, `titles` whether it carries a
watched title, `committees` which committees hold it now."""
