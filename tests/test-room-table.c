/* test-room-table.c — room membership logic
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-room-table.h"

static void
test_create_join_full (void)
{
  g_autoptr(PeercamRoomTable) table = peercam_room_table_new (0);  /* 0: default */
  g_auto(GStrv) existing = NULL;
  const GPtrArray *members;

  g_assert_cmpuint (peercam_room_table_get_capacity (table), ==, PEERCAM_ROOM_DEFAULT_CAPACITY);

  g_assert_cmpint (peercam_room_table_join (table, "r", "a", &existing), ==, PEERCAM_ROOM_JOIN_CREATED);
  g_assert_null (existing);

  g_assert_cmpint (peercam_room_table_join (table, "r", "b", &existing), ==, PEERCAM_ROOM_JOIN_JOINED);
  g_assert_nonnull (existing);
  g_assert_cmpuint (g_strv_length (existing), ==, 1);
  g_assert_cmpstr (existing[0], ==, "a");
  g_clear_pointer (&existing, g_strfreev);

  g_assert_cmpint (peercam_room_table_join (table, "r", "c", &existing), ==, PEERCAM_ROOM_JOIN_FULL);
  g_assert_null (existing);
  g_assert_false (peercam_room_table_contains (table, "r", "c"));
  g_assert_null (peercam_room_table_rooms_of (table, "c"));

  g_assert_cmpint (peercam_room_table_join (table, "r", "a", NULL), ==, PEERCAM_ROOM_JOIN_ALREADY_MEMBER);

  members = peercam_room_table_members_of (table, "r");
  g_assert_cmpuint (members->len, ==, 2);
  g_assert_cmpstr (g_ptr_array_index (members, 0), ==, "a");
  g_assert_cmpstr (g_ptr_array_index (members, 1), ==, "b");
  g_assert_cmpuint (peercam_room_table_get_n_rooms (table), ==, 1);
  g_assert_cmpuint (peercam_room_table_get_n_members (table), ==, 2);
  g_assert_null (peercam_room_table_members_of (table, "nope"));
}

static void
test_capacity (void)
{
  g_autoptr(PeercamRoomTable) table = peercam_room_table_new (4);
  g_auto(GStrv) existing = NULL;

  g_assert_cmpint (peercam_room_table_join (table, "r", "a", NULL), ==, PEERCAM_ROOM_JOIN_CREATED);
  g_assert_cmpint (peercam_room_table_join (table, "r", "b", NULL), ==, PEERCAM_ROOM_JOIN_JOINED);
  g_assert_cmpint (peercam_room_table_join (table, "r", "c", NULL), ==, PEERCAM_ROOM_JOIN_JOINED);
  g_assert_cmpint (peercam_room_table_join (table, "r", "d", &existing), ==, PEERCAM_ROOM_JOIN_JOINED);
  g_assert_cmpuint (g_strv_length (existing), ==, 3);
  g_assert_cmpstr (existing[2], ==, "c");
  g_assert_cmpint (peercam_room_table_join (table, "r", "e", NULL), ==, PEERCAM_ROOM_JOIN_FULL);

  /* Lowering the capacity keeps members but stops further joins. */
  peercam_room_table_set_capacity (table, 1);
  g_assert_cmpuint (peercam_room_table_members_of (table, "r")->len, ==, 4);
  g_assert_true (peercam_room_table_leave (table, "r", "d"));
  g_assert_cmpint (peercam_room_table_join (table, "r", "d", NULL), ==, PEERCAM_ROOM_JOIN_FULL);
  g_assert_cmpint (peercam_room_table_join (table, "s", "d", NULL), ==, PEERCAM_ROOM_JOIN_CREATED);
  g_assert_cmpint (peercam_room_table_join (table, "s", "a", NULL), ==, PEERCAM_ROOM_JOIN_FULL);
}

static void
test_several_rooms (void)
{
  g_autoptr(PeercamRoomTable) table = peercam_room_table_new (3);
  g_autoptr(GPtrArray) departures = NULL;
  const GPtrArray *rooms;
  PeercamRoomDeparture *d;

  peercam_room_table_join (table, "one", "a", NULL);
  peercam_room_table_join (table, "one", "b", NULL);
  peercam_room_table_join (table, "two", "a", NULL);
  peercam_room_table_join (table, "two", "c", NULL);
  peercam_room_table_join (table, "three", "a", NULL);

  rooms = peercam_room_table_rooms_of (table, "a");
  g_assert_cmpuint (rooms->len, ==, 3);
  g_assert_cmpstr (g_ptr_array_index (rooms, 0), ==, "one");
  g_assert_cmpstr (g_ptr_array_index (rooms, 2), ==, "three");
  g_assert_cmpuint (peercam_room_table_get_n_rooms (table), ==, 3);

  departures = peercam_room_table_leave_all (table, "a");
  g_assert_cmpuint (departures->len, ==, 3);
  d = g_ptr_array_index (departures, 0);
  g_assert_cmpstr (d->room, ==, "one");
  g_assert_cmpuint (g_strv_length (d->remaining), ==, 1);
  g_assert_cmpstr (d->remaining[0], ==, "b");
  d = g_ptr_array_index (departures, 1);
  g_assert_cmpstr (d->room, ==, "two");
  g_assert_cmpstr (d->remaining[0], ==, "c");
  d = g_ptr_array_index (departures, 2);
  g_assert_cmpstr (d->room, ==, "three");
  g_assert_cmpuint (g_strv_length (d->remaining), ==, 0);  /* the room is gone */

  g_assert_null (peercam_room_table_rooms_of (table, "a"));
  g_assert_null (peercam_room_table_members_of (table, "three"));
  g_assert_cmpuint (peercam_room_table_get_n_rooms (table), ==, 2);
  g_assert_cmpuint (peercam_room_table_get_n_members (table), ==, 2);

  /* Leaving again is harmless. */
  g_clear_pointer (&departures, g_ptr_array_unref);
  departures = peercam_room_table_leave_all (table, "a");
  g_assert_cmpuint (departures->len, ==, 0);
}

static void
test_leave (void)
{
  g_autoptr(PeercamRoomTable) table = peercam_room_table_new (2);

  peercam_room_table_join (table, "r", "a", NULL);
  peercam_room_table_join (table, "r", "b", NULL);

  g_assert_false (peercam_room_table_leave (table, "r", "zz"));
  g_assert_false (peercam_room_table_leave (table, "zz", "a"));
  g_assert_true (peercam_room_table_leave (table, "r", "a"));
  g_assert_false (peercam_room_table_leave (table, "r", "a"));
  g_assert_cmpuint (peercam_room_table_members_of (table, "r")->len, ==, 1);

  /* Room survives with b; a can come back (room not full now). */
  g_assert_cmpint (peercam_room_table_join (table, "r", "a", NULL), ==, PEERCAM_ROOM_JOIN_JOINED);
  g_assert_true (peercam_room_table_leave (table, "r", "a"));
  g_assert_true (peercam_room_table_leave (table, "r", "b"));
  g_assert_cmpuint (peercam_room_table_get_n_rooms (table), ==, 0);
  g_assert_cmpuint (peercam_room_table_get_n_members (table), ==, 0);

  /* An emptied room is created afresh. */
  g_assert_cmpint (peercam_room_table_join (table, "r", "b", NULL), ==, PEERCAM_ROOM_JOIN_CREATED);
}

/* A member is in at most max-rooms rooms; a refused join changes nothing. */
static void
test_max_rooms (void)
{
  g_autoptr(PeercamRoomTable) table = peercam_room_table_new (2);
  g_autoptr(GPtrArray) departures = NULL;

  g_assert_cmpuint (peercam_room_table_get_max_rooms (table), ==, PEERCAM_ROOM_DEFAULT_MAX_ROOMS);
  g_assert_cmpuint (PEERCAM_ROOM_DEFAULT_MAX_ROOMS, ==, 8);
  for (guint i = 0; i < 8; i++)
    {
      g_autofree char *room = g_strdup_printf ("r%u", i);

      g_assert_cmpint (peercam_room_table_join (table, room, "a", NULL), ==, PEERCAM_ROOM_JOIN_CREATED);
    }
  g_assert_cmpint (peercam_room_table_join (table, "r8", "a", NULL), ==, PEERCAM_ROOM_JOIN_TOO_MANY_ROOMS);
  g_assert_cmpint (peercam_room_table_join (table, "r0", "a", NULL), ==, PEERCAM_ROOM_JOIN_ALREADY_MEMBER);
  g_assert_null (peercam_room_table_members_of (table, "r8"));
  g_assert_cmpuint (peercam_room_table_get_n_rooms (table), ==, 8);
  g_assert_cmpuint (peercam_room_table_rooms_of (table, "a")->len, ==, 8);

  /* Others are not limited by a's rooms; a may join again after leaving one. */
  g_assert_cmpint (peercam_room_table_join (table, "r0", "b", NULL), ==, PEERCAM_ROOM_JOIN_JOINED);
  g_assert_true (peercam_room_table_leave (table, "r7", "a"));
  g_assert_cmpint (peercam_room_table_join (table, "r8", "a", NULL), ==, PEERCAM_ROOM_JOIN_CREATED);

  departures = peercam_room_table_leave_all (table, "a");
  g_assert_cmpuint (departures->len, ==, 8);
  g_assert_cmpstr (((PeercamRoomDeparture *) departures->pdata[0])->room, ==, "r0");
  g_assert_cmpstr (((PeercamRoomDeparture *) departures->pdata[0])->remaining[0], ==, "b");
  g_assert_null (((PeercamRoomDeparture *) departures->pdata[0])->remaining[1]);
  g_assert_cmpstr (((PeercamRoomDeparture *) departures->pdata[7])->room, ==, "r8");
  g_assert_null (((PeercamRoomDeparture *) departures->pdata[7])->remaining[0]);
  g_assert_cmpuint (peercam_room_table_get_n_rooms (table), ==, 1);
  g_assert_cmpuint (peercam_room_table_get_n_members (table), ==, 1);
}

/* Microseconds leave_all() takes for a member of @n rooms (the fastest
 * of @runs, to keep scheduling noise out). */
static gint64
time_leave_all (guint n, guint runs)
{
  gint64 best = G_MAXINT64;

  for (guint run = 0; run < runs; run++)
    {
      g_autoptr(PeercamRoomTable) table = peercam_room_table_new (2);
      g_autoptr(GPtrArray) departures = NULL;
      gint64 start;
      char room[16];

      peercam_room_table_set_max_rooms (table, G_MAXUINT);
      for (guint i = 0; i < n; i++)
        {
          g_snprintf (room, sizeof room, "r%u", i);
          g_assert_cmpint (peercam_room_table_join (table, room, "a", NULL), ==, PEERCAM_ROOM_JOIN_CREATED);
        }
      start = g_get_monotonic_time ();
      departures = peercam_room_table_leave_all (table, "a");
      best = MIN (best, g_get_monotonic_time () - start);
      g_assert_cmpuint (departures->len, ==, n);
      g_snprintf (room, sizeof room, "r%u", n - 1);
      g_assert_cmpstr (((PeercamRoomDeparture *) departures->pdata[n - 1])->room, ==, room);
      g_assert_cmpuint (peercam_room_table_get_n_rooms (table), ==, 0);
      g_assert_cmpuint (peercam_room_table_get_n_members (table), ==, 0);
    }
  return MAX (best, 1);
}

/* Leaving every room is linear: four times the rooms take about four times
 * as long, not sixteen (removing the first of n rooms n times was
 * quadratic). A ratio, not a duration, so a slow machine or a sanitizer
 * does not matter. */
static void
test_leave_all_linear (void)
{
  gint64 small = time_leave_all (25000, 3);
  gint64 large = time_leave_all (100000, 2);

  g_test_message ("leave_all: 25 000 rooms %" G_GINT64_FORMAT " us, 100 000 rooms %" G_GINT64_FORMAT " us",
                  small, large);
  g_assert_cmpint (large, <, 10 * small);
}

/* Random operations against a naive model. */
static void
test_random_model (void)
{
  g_autoptr(PeercamRoomTable) table = peercam_room_table_new (3);
  g_autoptr(GRand) rand = g_rand_new_with_seed (42);
  gboolean model[8][6] = { { FALSE } };  /* [room][member] */

  peercam_room_table_set_max_rooms (table, 5);

  for (guint step = 0; step < 20000; step++)
    {
      guint r = g_rand_int_range (rand, 0, 8);
      guint m = g_rand_int_range (rand, 0, 6);
      g_autofree char *room = g_strdup_printf ("room%u", r);
      g_autofree char *id = g_strdup_printf ("m%u", m);
      guint op = g_rand_int_range (rand, 0, 10);

      if (op < 6)
        {
          guint n = 0, n_rooms = 0;
          PeercamRoomJoinResult result;
          g_auto(GStrv) existing = NULL;

          for (guint k = 0; k < 6; k++)
            n += model[r][k];
          for (guint k = 0; k < 8; k++)
            n_rooms += model[k][m];
          result = peercam_room_table_join (table, room, id, &existing);
          if (model[r][m])
            g_assert_cmpint (result, ==, PEERCAM_ROOM_JOIN_ALREADY_MEMBER);
          else if (n_rooms >= 5)
            g_assert_cmpint (result, ==, PEERCAM_ROOM_JOIN_TOO_MANY_ROOMS);
          else if (n >= 3)
            g_assert_cmpint (result, ==, PEERCAM_ROOM_JOIN_FULL);
          else
            {
              g_assert_cmpint (result, ==, n == 0 ? PEERCAM_ROOM_JOIN_CREATED : PEERCAM_ROOM_JOIN_JOINED);
              g_assert_cmpuint (existing ? g_strv_length (existing) : 0, ==, n);
              model[r][m] = TRUE;
            }
        }
      else if (op < 8)
        {
          g_assert_cmpint (peercam_room_table_leave (table, room, id), ==, model[r][m]);
          model[r][m] = FALSE;
        }
      else
        {
          g_autoptr(GPtrArray) departures = peercam_room_table_leave_all (table, id);
          guint n = 0;

          for (guint k = 0; k < 8; k++)
            {
              n += model[k][m];
              model[k][m] = FALSE;
            }
          g_assert_cmpuint (departures->len, ==, n);
        }

      /* Check both indexes against the model. */
      for (guint k = 0; k < 8; k++)
        {
          g_autofree char *name = g_strdup_printf ("room%u", k);
          const GPtrArray *members = peercam_room_table_members_of (table, name);
          guint n = 0;

          for (guint j = 0; j < 6; j++)
            n += model[k][j];
          g_assert_cmpuint (members ? members->len : 0, ==, n);
          g_assert_true (members == NULL || members->len > 0);
        }
      for (guint j = 0; j < 6; j++)
        {
          g_autofree char *name = g_strdup_printf ("m%u", j);
          const GPtrArray *rooms = peercam_room_table_rooms_of (table, name);
          guint n = 0;

          for (guint k = 0; k < 8; k++)
            n += model[k][j];
          g_assert_cmpuint (rooms ? rooms->len : 0, ==, n);
        }
    }
}

static void
assert_route (PeercamRoomTable *t,
              const char       *sender,
              const char       *target,
              PeercamRoomRoute  expected,
              const char       *recipients)   /* space-separated, in order */
{
  g_autoptr(GPtrArray) got = NULL;
  g_autoptr(GString) joined = g_string_new ("");

  g_assert_cmpint (peercam_room_table_route (t, sender, target, &got), ==, expected);
  if (expected != PEERCAM_ROOM_ROUTE_OK)
    {
      g_assert_null (got);
      return;
    }
  for (guint i = 0; i < got->len; i++)
    g_string_append_printf (joined, "%s%s", i ? " " : "", (const char *) g_ptr_array_index (got, i));
  g_assert_cmpstr (joined->str, ==, recipients);
}

/* Issue 15: a room of one caller and several viewers; messages to the room
 * or to one member, never outside the sender's rooms. */
static void
test_route (void)
{
  g_autoptr(PeercamRoomTable) t = peercam_room_table_new (5);

  peercam_room_table_join (t, "r", "caller", NULL);
  peercam_room_table_join (t, "r", "v1", NULL);
  peercam_room_table_join (t, "r", "v2", NULL);
  peercam_room_table_join (t, "r", "v3", NULL);
  peercam_room_table_join (t, "other", "x", NULL);
  peercam_room_table_join (t, "other", "v3", NULL);

  assert_route (t, "caller", NULL, PEERCAM_ROOM_ROUTE_OK, "v1 v2 v3");
  assert_route (t, "v3", NULL, PEERCAM_ROOM_ROUTE_OK, "caller v1 v2 x");
  assert_route (t, "caller", "v2", PEERCAM_ROOM_ROUTE_OK, "v2");
  assert_route (t, "v2", "caller", PEERCAM_ROOM_ROUTE_OK, "caller");
  assert_route (t, "x", "v3", PEERCAM_ROOM_ROUTE_OK, "v3");
  assert_route (t, "caller", "x", PEERCAM_ROOM_ROUTE_OTHER_ROOM, NULL);
  assert_route (t, "caller", "nobody", PEERCAM_ROOM_ROUTE_UNKNOWN_TARGET, NULL);
  assert_route (t, "caller", "caller", PEERCAM_ROOM_ROUTE_SELF, NULL);
  assert_route (t, "nobody", "caller", PEERCAM_ROOM_ROUTE_NOT_IN_ROOM, NULL);
  assert_route (t, "nobody", NULL, PEERCAM_ROOM_ROUTE_NOT_IN_ROOM, NULL);
  g_assert_cmpint (peercam_room_table_route (t, "caller", "v1", NULL), ==, PEERCAM_ROOM_ROUTE_OK);

  /* A viewer that left is unknown; the others still hear the caller. */
  peercam_room_table_leave (t, "r", "v1");
  assert_route (t, "caller", "v1", PEERCAM_ROOM_ROUTE_UNKNOWN_TARGET, NULL);
  assert_route (t, "caller", NULL, PEERCAM_ROOM_ROUTE_OK, "v2 v3");
  /* Alone in a room: nobody to reach, not an error. */
  peercam_room_table_join (t, "solo", "s", NULL);
  assert_route (t, "s", NULL, PEERCAM_ROOM_ROUTE_OK, "");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/room-table/create-join-full", test_create_join_full);
  g_test_add_func ("/room-table/capacity", test_capacity);
  g_test_add_func ("/room-table/several-rooms", test_several_rooms);
  g_test_add_func ("/room-table/leave", test_leave);
  g_test_add_func ("/room-table/max-rooms", test_max_rooms);
  g_test_add_func ("/room-table/leave-all-linear", test_leave_all_linear);
  g_test_add_func ("/room-table/random-model", test_random_model);
  g_test_add_func ("/room-table/route", test_route);

  return g_test_run ();
}
