"""A small job queue in the database: work that must not block a request (media conversion,
expiring abandoned uploads). See :mod:`lti_tool.jobs.queue`."""
