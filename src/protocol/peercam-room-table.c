/* peercam-room-table.c — who is in which room
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */
#include "peercam-room-table.h"

#include <string.h>

/* Both directions are indexed so relaying (members_of) and disconnecting
 * (rooms_of) are lookups, not scans. Strings are stored once: a room's member
 * list points at the Member's id and a member's room list at the Room's name. */
typedef struct {
  char      *name;
  GPtrArray *members;  /* const char * → Member.id, join order */
} Room;

typedef struct {
  char      *id;
  GPtrArray *rooms;    /* const char * → Room.name */
} Member;

struct _PeercamRoomTable {
  GHashTable *rooms;    /* name → Room */
  GHashTable *members;  /* id → Member */
  guint       capacity;
  guint       max_rooms;  /* per member */
};

static void
room_free (Room *room)
{
  g_ptr_array_unref (room->members);
  g_free (room->name);
  g_free (room);
}

static void
member_free (Member *member)
{
  g_ptr_array_unref (member->rooms);
  g_free (member->id);
  g_free (member);
}

void
peercam_room_departure_free (PeercamRoomDeparture *departure)
{
  if (departure == NULL)
    return;
  g_free (departure->room);
  g_strfreev (departure->remaining);
  g_free (departure);
}

PeercamRoomTable *
peercam_room_table_new (guint capacity)
{
  PeercamRoomTable *self = g_new0 (PeercamRoomTable, 1);

  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) room_free);
  self->members = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) member_free);
  self->capacity = capacity > 0 ? capacity : PEERCAM_ROOM_DEFAULT_CAPACITY;
  self->max_rooms = PEERCAM_ROOM_DEFAULT_MAX_ROOMS;
  return self;
}

void
peercam_room_table_free (PeercamRoomTable *self)
{
  if (self == NULL)
    return;
  /* Rooms point into members' strings and vice versa: drop both together. */
  g_hash_table_unref (self->rooms);
  g_hash_table_unref (self->members);
  g_free (self);
}

guint
peercam_room_table_get_capacity (PeercamRoomTable *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->capacity;
}

void
peercam_room_table_set_capacity (PeercamRoomTable *self,
                                 guint             capacity)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (capacity > 0);
  self->capacity = capacity;
}

static GStrv
strv_from_ptr_array (const GPtrArray *array)
{
  GStrv strv = g_new (char *, array->len + 1);

  for (guint i = 0; i < array->len; i++)
    strv[i] = g_strdup (g_ptr_array_index (array, i));
  strv[array->len] = NULL;
  return strv;
}

static gboolean
ptr_array_contains_str (const GPtrArray *array, const char *str)
{
  for (guint i = 0; i < array->len; i++)
    if (strcmp (g_ptr_array_index (array, i), str) == 0)
      return TRUE;
  return FALSE;
}

static void
ptr_array_remove_str (GPtrArray *array, const char *str)
{
  for (guint i = 0; i < array->len; i++)
    if (strcmp (g_ptr_array_index (array, i), str) == 0)
      {
        g_ptr_array_remove_index (array, i);  /* keeps order */
        return;
      }
}

PeercamRoomJoinResult
peercam_room_table_join (PeercamRoomTable *self,
                         const char       *room_name,
                         const char       *id,
                         GStrv            *existing)
{
  Room *room;
  Member *member;
  PeercamRoomJoinResult result;

  g_return_val_if_fail (self != NULL, PEERCAM_ROOM_JOIN_FULL);
  g_return_val_if_fail (room_name != NULL, PEERCAM_ROOM_JOIN_FULL);
  g_return_val_if_fail (id != NULL, PEERCAM_ROOM_JOIN_FULL);

  if (existing != NULL)
    *existing = NULL;

  member = g_hash_table_lookup (self->members, id);
  room = g_hash_table_lookup (self->rooms, room_name);
  if (room != NULL && ptr_array_contains_str (room->members, id))
    return PEERCAM_ROOM_JOIN_ALREADY_MEMBER;
  if (member != NULL && member->rooms->len >= self->max_rooms)
    return PEERCAM_ROOM_JOIN_TOO_MANY_ROOMS;
  if (room != NULL)
    {
      if (room->members->len >= self->capacity)
        return PEERCAM_ROOM_JOIN_FULL;
      if (existing != NULL)
        *existing = strv_from_ptr_array (room->members);
      result = PEERCAM_ROOM_JOIN_JOINED;
    }
  else
    {
      room = g_new0 (Room, 1);
      room->name = g_strdup (room_name);
      room->members = g_ptr_array_new ();
      g_hash_table_insert (self->rooms, room->name, room);
      result = PEERCAM_ROOM_JOIN_CREATED;
    }

  if (member == NULL)
    {
      member = g_new0 (Member, 1);
      member->id = g_strdup (id);
      member->rooms = g_ptr_array_new ();
      g_hash_table_insert (self->members, member->id, member);
    }

  g_ptr_array_add (room->members, member->id);
  g_ptr_array_add (member->rooms, room->name);
  return result;
}

/* Removes @member from @room, dropping whichever became empty. */
static void
unlink_member (PeercamRoomTable *self,
               Room             *room,
               Member           *member)
{
  ptr_array_remove_str (room->members, member->id);
  ptr_array_remove_str (member->rooms, room->name);
  if (room->members->len == 0)
    g_hash_table_remove (self->rooms, room->name);
  if (member->rooms->len == 0)
    g_hash_table_remove (self->members, member->id);
}

gboolean
peercam_room_table_leave (PeercamRoomTable *self,
                          const char       *room_name,
                          const char       *id)
{
  Room *room;
  Member *member;

  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (room_name != NULL && id != NULL, FALSE);

  room = g_hash_table_lookup (self->rooms, room_name);
  member = g_hash_table_lookup (self->members, id);
  if (room == NULL || member == NULL || !ptr_array_contains_str (room->members, id))
    return FALSE;

  unlink_member (self, room, member);
  return TRUE;
}

GPtrArray *
peercam_room_table_leave_all (PeercamRoomTable *self,
                              const char       *id)
{
  GPtrArray *departures;
  Member *member;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  departures = g_ptr_array_new_with_free_func ((GDestroyNotify) peercam_room_departure_free);
  member = g_hash_table_lookup (self->members, id);
  if (member == NULL)
    return departures;

  /* One pass over the member's rooms (in join order), then the member
   * goes: each room loses one entry, so this is linear in the rooms. */
  for (guint i = 0; i < member->rooms->len; i++)
    {
      Room *room = g_hash_table_lookup (self->rooms, g_ptr_array_index (member->rooms, i));
      PeercamRoomDeparture *departure = g_new0 (PeercamRoomDeparture, 1);

      departure->room = g_strdup (room->name);
      ptr_array_remove_str (room->members, member->id);
      departure->remaining = strv_from_ptr_array (room->members);
      if (room->members->len == 0)
        g_hash_table_remove (self->rooms, room->name);
      g_ptr_array_add (departures, departure);
    }
  g_hash_table_remove (self->members, id);

  return departures;
}

guint
peercam_room_table_get_max_rooms (PeercamRoomTable *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return self->max_rooms;
}

void
peercam_room_table_set_max_rooms (PeercamRoomTable *self,
                                  guint             max_rooms)
{
  g_return_if_fail (self != NULL);
  g_return_if_fail (max_rooms > 0);
  self->max_rooms = max_rooms;
}

const GPtrArray *
peercam_room_table_members_of (PeercamRoomTable *self,
                               const char       *room_name)
{
  Room *room;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (room_name != NULL, NULL);

  room = g_hash_table_lookup (self->rooms, room_name);
  return room ? room->members : NULL;
}

const GPtrArray *
peercam_room_table_rooms_of (PeercamRoomTable *self,
                             const char       *id)
{
  Member *member;

  g_return_val_if_fail (self != NULL, NULL);
  g_return_val_if_fail (id != NULL, NULL);

  member = g_hash_table_lookup (self->members, id);
  return member ? member->rooms : NULL;
}

PeercamRoomRoute
peercam_room_table_route (PeercamRoomTable  *self,
                          const char        *sender,
                          const char        *target,
                          GPtrArray        **recipients)
{
  const GPtrArray *rooms;
  g_autoptr(GPtrArray) out = NULL;

  g_return_val_if_fail (self != NULL, PEERCAM_ROOM_ROUTE_NOT_IN_ROOM);
  g_return_val_if_fail (sender != NULL, PEERCAM_ROOM_ROUTE_NOT_IN_ROOM);

  if (recipients)
    *recipients = NULL;
  rooms = peercam_room_table_rooms_of (self, sender);
  if (rooms == NULL)
    return PEERCAM_ROOM_ROUTE_NOT_IN_ROOM;

  if (target != NULL)
    {
      Member *member;

      if (strcmp (target, sender) == 0)
        return PEERCAM_ROOM_ROUTE_SELF;
      member = g_hash_table_lookup (self->members, target);
      if (member == NULL)
        return PEERCAM_ROOM_ROUTE_UNKNOWN_TARGET;
      /* Room names are interned per room: compare the pointers. */
      for (guint r = 0; r < rooms->len; r++)
        if (g_ptr_array_find (member->rooms, g_ptr_array_index (rooms, r), NULL))
          {
            if (recipients)
              {
                *recipients = g_ptr_array_new ();
                g_ptr_array_add (*recipients, member->id);
              }
            return PEERCAM_ROOM_ROUTE_OK;
          }
      return PEERCAM_ROOM_ROUTE_OTHER_ROOM;
    }

  if (recipients == NULL)
    return PEERCAM_ROOM_ROUTE_OK;
  out = g_ptr_array_new ();
  for (guint r = 0; r < rooms->len; r++)
    {
      const GPtrArray *members = peercam_room_table_members_of (self, g_ptr_array_index (rooms, r));

      for (guint m = 0; m < members->len; m++)
        {
          const char *id = g_ptr_array_index (members, m);

          if (strcmp (id, sender) == 0)
            continue;
          /* Dedup only matters when the sender shares several rooms. */
          if (rooms->len > 1 && g_ptr_array_find (out, id, NULL))
            continue;
          g_ptr_array_add (out, (gpointer) id);
        }
    }
  *recipients = g_steal_pointer (&out);
  return PEERCAM_ROOM_ROUTE_OK;
}

gboolean
peercam_room_table_contains (PeercamRoomTable *self,
                             const char       *room_name,
                             const char       *id)
{
  const GPtrArray *members = peercam_room_table_members_of (self, room_name);

  return members != NULL && id != NULL && ptr_array_contains_str (members, id);
}

guint
peercam_room_table_get_n_rooms (PeercamRoomTable *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_hash_table_size (self->rooms);
}

guint
peercam_room_table_get_n_members (PeercamRoomTable *self)
{
  g_return_val_if_fail (self != NULL, 0);
  return g_hash_table_size (self->members);
}
