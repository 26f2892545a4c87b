"""Work orders: the server-enforced lifecycle, history and SLA deadlines."""
