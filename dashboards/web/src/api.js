// The only place that talks HTTP to brain_api: adds the bearer token, turns error bodies into ApiError
// (FastAPI puts the reason in `detail`) and tells the app when the token stopped working (401).

export class ApiError extends Error {
  constructor(status, detail) {
    super(typeof detail === "string" ? detail : JSON.stringify(detail));
    this.status = status;
    this.detail = detail;
  }
}

/** Query string from an object, skipping empty values so unset filters are not sent. */
export function queryString(params = {}) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== "") q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : "";
}

export function createApi({ base = "", token, onUnauthorized = () => {} }) {
  async function request(method, path, { params, body, signal } = {}) {
    const headers = { Accept: "application/json" };
    const secret = token();
    if (secret) headers.Authorization = `Bearer ${secret}`;
    if (body !== undefined) headers["Content-Type"] = "application/json";
    const res = await fetch(`${base}${path}${queryString(params)}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
      signal,
    });
    if (res.status === 401) onUnauthorized();
    const text = await res.text();
    let data = null;
    if (text) {
      try {
        data = JSON.parse(text);
      } catch {
        data = text;
      }
    }
    if (!res.ok) throw new ApiError(res.status, (data && data.detail) || res.statusText);
    return data;
  }
  return {
    base,
    token,
    get: (path, params, signal) => request("GET", path, { params, signal }),
    post: (path, body) => request("POST", path, { body }),
  };
}
