"""M3CoreCRM: multi-tenant CRM for real-estate developers and brokerages."""
