"""Reports for the periodic duties: weekly hot complaints, the half-monthly unfinished list,
SLA, proactive and monthly figures in JSON, CSV and XLSX; stored runs; the scheduled runs."""
