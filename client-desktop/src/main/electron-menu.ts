import type { MenuItemConstructorOptions } from 'electron';
import type { MenuAction, MenuItem } from './menu-template.js';

/** Turns the pure menu into Electron's template; a click calls `onAction` with the item's action. */
export function toElectronMenu(
  items: readonly MenuItem[],
  onAction: (action: MenuAction) => void,
): MenuItemConstructorOptions[] {
  return items.map((item): MenuItemConstructorOptions => {
    if (item.type === 'separator') return { type: 'separator' };
    if (item.type === 'checkbox')
      return {
        type: 'checkbox',
        label: item.label,
        checked: item.checked,
        enabled: item.enabled,
        click: () => onAction(item.action),
      };
    const action = item.action;
    return {
      type: 'normal',
      label: item.label,
      enabled: item.enabled,
      ...(action ? { click: () => onAction(action) } : {}),
    };
  });
}
