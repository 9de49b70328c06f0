-- Webhooks: the maintenance sweep finds pending deliveries whose job is gone (deleted, or never linked after a crash)
-- without reading every delivery ever made.
CREATE INDEX webhook_deliveries_pending ON webhook_deliveries (updated_at) WHERE state = 'pending';
