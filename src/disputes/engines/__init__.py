"""The platform's engines: processes that read the views and record events (deadlines, merchant
standing), and the loop they run in."""
