/** `window/showMessage` (a notification: nothing for the user to answer). */
import { ShowMessageNotification, type Connection, type MessageType } from 'vscode-languageserver';

export function showMessage(connection: Connection, type: MessageType, message: string): void {
  void connection.sendNotification(ShowMessageNotification.type, { type, message });
}
