"""Sales reports: periods in the bridge's time zone, figures from the orders ledger, their
text, their chart, and the daily summary's schedule."""
