-- demo-data.sql -- deterministic sample data for the booking schema in
-- demo-schema.sql.  `pgcutover demo` runs it through libpq (no psql) on both
-- clusters after setting two custom settings in the same session:
--
--   SET pgcutover.rows = 'N';        -- total rows over all 8 tables (>= 100)
--   SET pgcutover.side = 'source';   -- or 'target'
--
-- N is split over the tables in fixed proportions (demo_plan below); the
-- per-table figures add up to exactly N.  No random(): the same N gives the
-- same rows on both sides, as a real copy would.  On the 'target' side the
-- script then leaves the copy unfinished so there is something to compare:
-- the first five tables complete, bookings at 85 %, dialog_contexts at 60 %,
-- reminders empty, and the clients id sequence behind max(id).

-- The rows are consistent by construction (tests/integration/demo_clusters.sh
-- checks every foreign key afterwards); skipping the per-row FK triggers
-- makes large --rows loads several times faster.
SET session_replication_role = replica;

CREATE TEMP TABLE demo_plan AS
WITH n AS (SELECT greatest(current_setting('pgcutover.rows')::bigint, 100) AS total),
p AS (
    SELECT total,
           greatest(total * 5 / 1000, 1)   AS companies,
           greatest(total * 20 / 1000, 1)  AS services,
           greatest(total * 20 / 1000, 1)  AS staff,
           greatest(total * 80 / 1000, 1)  AS staff_schedules,
           greatest(total * 250 / 1000, 1) AS clients,
           greatest(total * 120 / 1000, 1) AS dialog_contexts,
           greatest(total * 155 / 1000, 1) AS reminders
    FROM n)
SELECT companies, services, staff, staff_schedules, clients,
       -- bookings take the remainder so the tables add up to the total
       total - companies - services - staff - staff_schedules - clients
             - dialog_contexts - reminders AS bookings,
       dialog_contexts, reminders,
       timestamptz '2025-09-01 09:00:00+00' AS epoch
FROM p;

INSERT INTO companies (name, slug, timezone, phone, created_at, updated_at)
SELECT (ARRAY['Beauty', 'Dental', 'Barber', 'Spa', 'Nails', 'Massage'])[1 + g % 6]
           || ' Studio ' || g,
       'studio-' || g,
       (ARRAY['Europe/Moscow', 'Europe/Berlin', 'Asia/Almaty'])[1 + g % 3],
       '+7900' || lpad(g::text, 7, '0'),
       p.epoch - interval '400 days' + g * interval '1 hour',
       p.epoch - interval '400 days' + g * interval '1 hour'
FROM demo_plan p, generate_series(1, p.companies) AS g;

-- services and staff: company = 1 + (id-1) % companies, so every company has
-- some (services, staff >= companies by the proportions above).
INSERT INTO services (company_id, name, duration_min, price)
SELECT 1 + (g - 1) % p.companies,
       (ARRAY['Haircut', 'Colouring', 'Manicure', 'Pedicure', 'Cleaning',
              'Check-up', 'Massage 60', 'Beard trim'])[1 + g % 8],
       30 * (1 + g % 4),
       500 + (g % 20) * 150
FROM demo_plan p, generate_series(1, p.services) AS g;

INSERT INTO staff (company_id, full_name, position, is_active, created_at)
SELECT 1 + (g - 1) % p.companies,
       (ARRAY['Anna', 'Maria', 'Olga', 'Irina', 'Elena', 'Sergey', 'Dmitry', 'Alexei'])[1 + g % 8]
           || ' ' || (ARRAY['Ivanova', 'Petrova', 'Smirnova', 'Kuznetsova', 'Popov', 'Volkov'])[1 + g % 6],
       (ARRAY['master', 'senior master', 'administrator', 'doctor'])[1 + g % 4],
       g % 17 <> 0,
       p.epoch - interval '300 days' + g * interval '1 hour'
FROM demo_plan p, generate_series(1, p.staff) AS g;

INSERT INTO staff_schedules (staff_id, work_date, starts_at, ends_at)
SELECT 1 + (g - 1) % p.staff,
       (p.epoch + ((g - 1) / p.staff) * interval '1 day')::date,
       time '09:00' + (g % 3) * interval '1 hour',
       time '18:00' + (g % 3) * interval '1 hour'
FROM demo_plan p, generate_series(1, p.staff_schedules) AS g;

INSERT INTO clients (company_id, phone, name, email, visits, created_at, updated_at)
SELECT 1 + (g - 1) % p.companies,
       '+7915' || lpad(g::text, 7, '0'),
       (ARRAY['Alice', 'Boris', 'Vera', 'Gleb', 'Daria', 'Egor', 'Zoya', 'Ilya'])[1 + g % 8],
       CASE WHEN g % 3 = 0 THEN 'client' || g || '@example.com' END,
       g % 12,
       p.epoch - interval '200 days' + g * interval '1 minute',
       p.epoch - interval '200 days' + g * interval '1 minute'
FROM demo_plan p, generate_series(1, p.clients) AS g;

-- A booking's staff and service belong to its client's company:
-- company c owns ids c, c + companies, c + 2*companies, ...
INSERT INTO bookings (company_id, client_id, service_id, staff_id, starts_at, ends_at,
                      status, price, comment, created_at, updated_at)
SELECT b.company_id, b.client_id,
       b.company_id + p.companies * ((b.g - 1) % greatest(p.services / p.companies, 1)),
       b.company_id + p.companies * ((b.g - 1) % greatest(p.staff / p.companies, 1)),
       b.starts_at, b.starts_at + interval '1 hour',
       CASE WHEN b.g % 10 = 0 THEN 'cancelled'
            WHEN b.g % 25 = 1 THEN 'no_show'
            WHEN b.g % 10 < 7 THEN 'completed'
            ELSE 'confirmed' END,
       500 + (b.g % 20) * 150,
       CASE WHEN b.g % 7 = 0 THEN 'first visit, call before' END,
       b.starts_at - interval '3 days', b.starts_at - interval '3 days'
FROM demo_plan p,
     LATERAL (SELECT g,
                     1 + (g - 1) % p.clients AS client_id,
                     1 + ((g - 1) % p.clients) % p.companies AS company_id,
                     p.epoch + ((g - 1) / 8) * interval '1 hour' + (g % 8) * interval '1 minute' AS starts_at
              FROM generate_series(1, p.bookings) AS g) AS b;

-- At most one context per client and channel.
INSERT INTO dialog_contexts (client_id, channel, state, last_message_at, updated_at)
SELECT 1 + (g - 1) % p.clients,
       (ARRAY['whatsapp', 'telegram'])[1 + ((g - 1) / p.clients) % 2],
       jsonb_build_object('step', (ARRAY['greeting', 'choose_service', 'choose_time', 'confirm'])[1 + g % 4],
                          'lang', 'ru', 'attempts', g % 3),
       p.epoch + g * interval '1 minute',
       p.epoch + g * interval '1 minute'
FROM demo_plan p, generate_series(1, p.dialog_contexts) AS g;

INSERT INTO reminders (booking_id, kind, remind_at, sent_at)
SELECT r.booking_id, r.kind, bk.starts_at - r.lead,
       CASE WHEN r.booking_id % 10 < 7 THEN bk.starts_at - r.lead END
FROM demo_plan p,
     LATERAL (SELECT g,
                     1 + (g - 1) % p.bookings AS booking_id,
                     CASE WHEN ((g - 1) / p.bookings) % 2 = 0 THEN 'day_before' ELSE 'two_hours' END AS kind,
                     CASE WHEN ((g - 1) / p.bookings) % 2 = 0 THEN interval '1 day' ELSE interval '2 hours' END AS lead
              FROM generate_series(1, p.reminders) AS g) AS r
JOIN bookings bk ON bk.id = r.booking_id;

-- Target side: an unfinished copy.  Deleting bookings cascades to nothing
-- here because reminders are emptied first.
DO $$
DECLARE
    p demo_plan;
BEGIN
    IF current_setting('pgcutover.side', true) IS DISTINCT FROM 'target' THEN
        RETURN;
    END IF;
    SELECT * INTO p FROM demo_plan;
    TRUNCATE reminders;
    DELETE FROM bookings WHERE id > p.bookings * 85 / 100;
    DELETE FROM dialog_contexts WHERE id > p.dialog_contexts * 60 / 100;
    -- A copy with explicit ids leaves the sequence where it was: behind.
    PERFORM setval(pg_get_serial_sequence('clients', 'id'), greatest(p.clients / 2, 1));
END;
$$;

ANALYZE;
