// REST calls of classroom rooms (docs/protocol.md, Rooms). Teacher calls carry the teacher
// token, student calls the student's session token, both as a Bearer header.

import { fetchFile, request } from './api.js';

const room = (code) => `/api/rooms/${encodeURIComponent(code)}`;

export const roomApi = {
  /** -> {code, teacher_token, room: RoomOut} */
  create: (body) => request('POST', '/api/rooms', { body }),
  /** -> RoomPublic {code, name, status, students, max_students} */
  info: (code) => request('GET', room(code)),
  /** -> RoomOut, students included */
  teacher: (code, token) => request('GET', `${room(code)}/teacher`, { token }),
  /** -> {session_id, token, nickname, room, locked, teacher_session_id} */
  join: (code, nickname) => request('POST', `${room(code)}/join`, { body: { nickname } }),
  /** -> {nickname, session_id, locked, status, teacher_session_id, lesson} */
  me: (code, token) => request('GET', `${room(code)}/me`, { token }),
  pushConfig: (code, token, config) => request('POST', `${room(code)}/config`, { body: config, token }),
  pauseAll: (code, token) => request('POST', `${room(code)}/pause`, { token }),
  playAll: (code, token) => request('POST', `${room(code)}/play`, { token }),
  setLocked: (code, token, locked) => request('PUT', `${room(code)}/locked`, { body: { locked }, token }),
  expire: (code, token) => request('POST', `${room(code)}/expire`, { token }),
  close: (code, token) => request('DELETE', room(code), { token }),
  project: (code, token, sessionId) => request('PUT', `${room(code)}/projector`, { body: { session_id: sessionId }, token }),
  /** Every student's session to a lesson step, their panels open at it -> RoomOut */
  startLesson: (code, token, lessonId, step) =>
    request('POST', `${room(code)}/lesson`, { body: { lesson_id: lessonId, step }, token }),
  /** The room's lesson ends (students' sessions stay as they are) -> RoomOut */
  stopLesson: (code, token) => request('DELETE', `${room(code)}/lesson`, { token }),
  /** The student's session becomes a copy of the teacher's -> SessionState */
  fork: (code, token) => request('POST', `${room(code)}/fork`, { token }),
  /** -> {blob, filename} */
  resultsCsv: (code, token) => fetchFile(`${room(code)}/results.csv`, token, `room-${code}.csv`),
};

/** Join codes as the server writes them: upper case, no spaces. */
export function normaliseCode(text) {
  return String(text || '').toUpperCase().replace(/[^A-Z0-9]/g, '');
}
