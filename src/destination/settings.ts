/** One destination = one Sailthru account and how events are mapped into it (SPEC.md §1). */
export type OptoutValue = 'none' | 'all' | 'basic' | 'blast';

export interface DestinationSettings {
  apiKey: string;
  /** Never sent, logged or shown back. */
  sharedSecret: string;
  customerId?: string;
  optoutValue: OptoutValue;
  defaultListName?: string;
  reminderTemplate?: string;
  reminderTime?: string;
  sendTemplate?: string;
  productBaseUrl?: string;
  cartExpiryHours?: number;
  apiUrl: string;
  trackUrl: string;
}

export const SAILTHRU_API_URL = 'https://api.sailthru.com';
export const SAILTHRU_TRACK_URL = 'https://api.sail-track.com';
