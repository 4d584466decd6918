"""The project's shared package: event contracts, settings, the field catalogue and the
adapters that every service builds the same way (Kafka, PostgreSQL, S3)."""
