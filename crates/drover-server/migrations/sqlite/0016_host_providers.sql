-- Host providers per layer: which provider new instances of the layer get (NULL: local), and
-- the provider's settings as JSON (for `ec2`: core's Ec2Settings; never credentials). An
-- instance's machine id at its provider (an EC2 instance id).

ALTER TABLE layers ADD COLUMN provider TEXT;
ALTER TABLE layers ADD COLUMN provider_settings TEXT;
ALTER TABLE instances ADD COLUMN machine_id TEXT;
