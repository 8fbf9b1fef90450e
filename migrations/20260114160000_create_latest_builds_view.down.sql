-- Revert migration 20260114160000: create latest builds view

DROP VIEW latest_pull_request_builds;
