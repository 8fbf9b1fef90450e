-- Revert migration 20260105093000: create projects

DROP TABLE projects;
