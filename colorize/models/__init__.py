"""Model builders for every architecture in the project's seed documents."""
