/* peercam-room-table.h — who is in which room (pure: GLib only, no I/O)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 *
 * Members are opaque string ids (the server uses Socket.IO socket ids). A
 * member may be in several rooms; a room exists while it has members and
 * holds at most `capacity` of them. Member lists keep join order.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define PEERCAM_ROOM_DEFAULT_CAPACITY 2
/* Rooms one member may be in at once: the demo needs one; without a bound
 * one connection could create rooms until the server runs out of memory. */
#define PEERCAM_ROOM_DEFAULT_MAX_ROOMS 8

typedef enum {
  PEERCAM_ROOM_JOIN_CREATED,         /* first member: the room was created */
  PEERCAM_ROOM_JOIN_JOINED,          /* joined a room that had members */
  PEERCAM_ROOM_JOIN_FULL,            /* room at capacity: not added */
  PEERCAM_ROOM_JOIN_ALREADY_MEMBER,  /* nothing changed */
  PEERCAM_ROOM_JOIN_TOO_MANY_ROOMS,  /* the member is in max-rooms rooms: not added */
} PeercamRoomJoinResult;

typedef struct _PeercamRoomTable PeercamRoomTable;

/* One room a member left and who is still in it. */
typedef struct {
  char  *room;
  GStrv  remaining;  /* NULL-terminated, join order; empty when the room is gone */
} PeercamRoomDeparture;

void                  peercam_room_departure_free   (PeercamRoomDeparture *departure);

PeercamRoomTable     *peercam_room_table_new        (guint                  capacity);
void                  peercam_room_table_free       (PeercamRoomTable      *self);

guint                 peercam_room_table_get_capacity (PeercamRoomTable    *self);
/* Applies to later joins; rooms already over a lowered capacity keep their members. */
void                  peercam_room_table_set_capacity (PeercamRoomTable    *self,
                                                       guint                capacity);

guint                 peercam_room_table_get_max_rooms (PeercamRoomTable   *self);
/* Applies to later joins (default PEERCAM_ROOM_DEFAULT_MAX_ROOMS). */
void                  peercam_room_table_set_max_rooms (PeercamRoomTable   *self,
                                                        guint               max_rooms);

/* @existing (out, optional, transfer full): for JOINED, the members that
 * were already in the room (join order), NULL-terminated; otherwise NULL. */
PeercamRoomJoinResult peercam_room_table_join       (PeercamRoomTable      *self,
                                                     const char            *room,
                                                     const char            *id,
                                                     GStrv                 *existing);
/* Returns TRUE if @id was in @room. */
gboolean              peercam_room_table_leave      (PeercamRoomTable      *self,
                                                     const char            *room,
                                                     const char            *id);
/* Removes @id from every room. Returns (element-type PeercamRoomDeparture)
 * (transfer full), empty if @id was in no room. */
GPtrArray            *peercam_room_table_leave_all  (PeercamRoomTable      *self,
                                                     const char            *id);

/* Zero-copy views (transfer none): valid until the table next changes.
 * Elements are `const char *`. NULL when the room / member is unknown. */
const GPtrArray      *peercam_room_table_members_of (PeercamRoomTable      *self,
                                                     const char            *room);
const GPtrArray      *peercam_room_table_rooms_of   (PeercamRoomTable      *self,
                                                     const char            *id);

typedef enum {
  PEERCAM_ROOM_ROUTE_OK,
  PEERCAM_ROOM_ROUTE_NOT_IN_ROOM,    /* the sender is in no room */
  PEERCAM_ROOM_ROUTE_UNKNOWN_TARGET, /* the target is in no room at all */
  PEERCAM_ROOM_ROUTE_OTHER_ROOM,     /* the target shares no room with the sender */
  PEERCAM_ROOM_ROUTE_SELF,           /* the sender addressed itself */
} PeercamRoomRoute;

/* Who a message from @sender reaches: with @target NULL every other
 * member of @sender's rooms, each once (the demo's broadcast); with a
 * target, that member alone, if it shares a room with @sender.
 * @recipients (out, optional, transfer container): `const char *` ids
 * (views valid until the table next changes), NULL unless OK. */
PeercamRoomRoute      peercam_room_table_route      (PeercamRoomTable      *self,
                                                     const char            *sender,
                                                     const char            *target,
                                                     GPtrArray            **recipients);

gboolean              peercam_room_table_contains   (PeercamRoomTable      *self,
                                                     const char            *room,
                                                     const char            *id);
guint                 peercam_room_table_get_n_rooms   (PeercamRoomTable   *self);
guint                 peercam_room_table_get_n_members (PeercamRoomTable   *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamRoomTable, peercam_room_table_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (PeercamRoomDeparture, peercam_room_departure_free)

G_END_DECLS
