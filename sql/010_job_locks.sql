-- The lock each job takes for its run: a row lock on its row here (SELECT … FOR UPDATE NOWAIT, held by a
-- transaction on the run's lock connection). A row lock needs UPDATE privilege, which the read-only role of the
-- status service does not have, so it cannot hold a job's lock; an advisory lock any role could take.
CREATE TABLE job_locks (
  job text PRIMARY KEY CHECK (job <> '')
);
