/** Sailthru's own hosts: the REST API, and the page-view host. No imports, so settings can name them cheaply. */
export const DEFAULT_API_URL = 'https://api.sailthru.com';
export const DEFAULT_TRACK_URL = 'https://api.sail-track.com';
