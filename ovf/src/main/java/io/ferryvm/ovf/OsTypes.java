package io.ferryvm.ovf;

import java.util.Map;

/** CIM_OperatingSystem OsType codes (OperatingSystemSection ovf:id) and the names Ferry uses for them. */
final class OsTypes {
    static final Map<Integer, String> NAMES = Map.ofEntries(
            Map.entry(0, "unknown"), Map.entry(1, "other"), Map.entry(36, "linux"), Map.entry(58, "windows-2000-server"),
            Map.entry(67, "windows-xp"), Map.entry(69, "windows-server-2003"), Map.entry(70, "windows-server-2003-64"),
            Map.entry(71, "windows-xp-64"), Map.entry(73, "windows-vista"), Map.entry(74, "windows-vista-64"),
            Map.entry(76, "windows-server-2008"), Map.entry(77, "windows-server-2008-64"), Map.entry(79, "rhel"),
            Map.entry(80, "rhel-64"), Map.entry(82, "sles"), Map.entry(83, "sles-64"), Map.entry(93, "ubuntu"),
            Map.entry(94, "ubuntu-64"), Map.entry(95, "debian"), Map.entry(96, "debian-64"), Map.entry(99, "freebsd"),
            Map.entry(100, "linux-2.6"), Map.entry(101, "linux-64"), Map.entry(102, "other-64"),
            Map.entry(103, "windows-server-2008-r2"), Map.entry(105, "windows-7"), Map.entry(106, "centos"),
            Map.entry(107, "centos-64"), Map.entry(109, "oracle-linux-64"), Map.entry(112, "windows-server-2011"),
            Map.entry(113, "windows-server-2012"), Map.entry(114, "windows-8"), Map.entry(115, "windows-8-64"),
            Map.entry(116, "windows-server-2012-r2"), Map.entry(120, "windows-10-64"));

    private OsTypes() {}

    static String name(int code) {
        String n = NAMES.get(code);
        return n != null ? n : "cim-" + code;
    }

    /** The OsType code for a Ferry name (the inverse of {@link #name}); 1 (Other) when unknown. */
    static int code(String name) {
        if (name == null || name.isEmpty()) {
            return 0;
        }
        if (name.startsWith("cim-")) {
            try {
                return Integer.parseInt(name.substring(4));
            } catch (NumberFormatException e) {
                return 1;
            }
        }
        for (Map.Entry<Integer, String> e : NAMES.entrySet()) {
            if (e.getValue().equals(name)) {
                return e.getKey();
            }
        }
        return 1;
    }
}
