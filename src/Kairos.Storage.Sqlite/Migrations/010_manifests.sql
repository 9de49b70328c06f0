-- Manifests: who manages a queue, schedule, monitor or alert rule. NULL: by hand; 'manifest': declared by a manifest
-- (kairos apply), so the API refuses to change or delete it until it is unmarked.
ALTER TABLE queues ADD COLUMN managed_by TEXT;
ALTER TABLE schedules ADD COLUMN managed_by TEXT;
ALTER TABLE monitors ADD COLUMN managed_by TEXT;
ALTER TABLE alert_rules ADD COLUMN managed_by TEXT;
