-- Run once by the postgres image on an empty data volume: one database per service
-- (each service applies its own migrations at start).
CREATE DATABASE crm_contacts;
CREATE DATABASE crm_export;
CREATE DATABASE crm_importer;
