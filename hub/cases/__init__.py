"""The case machinery shared by work orders, complaints and inspection rounds."""
