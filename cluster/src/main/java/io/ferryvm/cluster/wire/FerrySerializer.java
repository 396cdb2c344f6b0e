package io.ferryvm.cluster.wire;

import com.esotericsoftware.kryo.Kryo;
import com.esotericsoftware.kryo.KryoException;
import com.esotericsoftware.kryo.Serializer;
import com.esotericsoftware.kryo.io.Input;
import com.esotericsoftware.kryo.io.Output;
import com.esotericsoftware.kryo.util.Pool;
import io.ferryvm.core.CoreException;
import io.ferryvm.core.state.FormatVersion;
import io.ferryvm.core.state.KryoCodec;
import java.io.NotSerializableException;
import org.apache.pekko.actor.ExtendedActorSystem;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorRefResolver;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.serialization.SerializerWithStringManifest;

/**
 * Pekko serializer for every {@link WireMessage}: Kryo with explicit, ordered class registration
 * ({@link WireRegistry}), the wire format version in the manifest ("v1"), unknown classes and versions
 * refused, never Java serialization. Typed actor refs travel as their path (ActorRefResolver).
 */
public final class FerrySerializer extends SerializerWithStringManifest {
    public static final FormatVersion WIRE = new FormatVersion("wire", 1, 1);
    static final int MAX_MESSAGE = 4 << 20;

    private final Pool<Kryo> pool;

    public FerrySerializer(ExtendedActorSystem system) {
        ActorRefResolver resolver = ActorRefResolver.get(Adapter.toTyped(system));
        this.pool = new Pool<>(true, false, 32) {
            @Override
            protected Kryo create() {
                Kryo k = new Kryo();
                k.setRegistrationRequired(true);
                k.setReferences(false);
                k.setMaxDepth(64);
                WireRegistry.register(k, new ActorRefSerializer(resolver));
                return k;
            }
        };
    }

    @Override
    public int identifier() {
        return 740_201;
    }

    @Override
    public String manifest(Object o) {
        return "v" + WIRE.current();
    }

    @Override
    public byte[] toBinary(Object o) {
        if (!(o instanceof WireMessage)) {
            throw new IllegalArgumentException("not a Ferry wire message: " + o.getClass().getName());
        }
        Kryo k = pool.obtain();
        try (Output out = new Output(512, MAX_MESSAGE)) {
            k.writeClassAndObject(out, o);
            return out.toBytes();
        } catch (KryoException e) {
            throw new IllegalArgumentException("cannot serialize " + o.getClass().getSimpleName() + ": " + e.getMessage(), e);
        } finally {
            pool.free(k);
        }
    }

    @Override
    public Object fromBinary(byte[] bytes, String manifest) throws NotSerializableException {
        int version;
        try {
            if (!manifest.startsWith("v")) {
                throw new NumberFormatException(manifest);
            }
            version = Integer.parseInt(manifest.substring(1));
            WIRE.checkReadable(version, "message");
        } catch (NumberFormatException | CoreException e) {
            throw new NotSerializableException("Ferry wire message with manifest '" + manifest + "' refused: "
                    + (e instanceof CoreException ? e.getMessage() : "not a version"));
        }
        if (bytes.length > MAX_MESSAGE) {
            throw new NotSerializableException("Ferry wire message of " + bytes.length + " bytes exceeds " + MAX_MESSAGE);
        }
        Kryo k = pool.obtain();
        try {
            Input in = new Input(bytes);
            Object o = k.readClassAndObject(in);
            if (!(o instanceof WireMessage)) {
                throw new NotSerializableException("not a Ferry wire message: " + (o == null ? "null" : o.getClass().getName()));
            }
            return o;
        } catch (KryoException | IllegalArgumentException | IndexOutOfBoundsException | NullPointerException e) {
            throw new NotSerializableException("Ferry wire message refused: " + KryoCodec.rootMessage(e));
        } finally {
            pool.free(k);
        }
    }

    /** Typed actor refs as their serialization format (a path with the node's address). */
    static final class ActorRefSerializer extends Serializer<ActorRef<?>> {
        private final ActorRefResolver resolver;

        ActorRefSerializer(ActorRefResolver resolver) {
            this.resolver = resolver;
            setImmutable(true);
        }

        @Override
        public void write(Kryo kryo, Output out, ActorRef<?> ref) {
            out.writeString(resolver.toSerializationFormat(ref));
        }

        @Override
        public ActorRef<?> read(Kryo kryo, Input in, Class<? extends ActorRef<?>> type) {
            String path = in.readString();
            if (path == null || path.length() > 1024) {
                throw new KryoException("actor path missing or too long");
            }
            return resolver.resolveActorRef(path);
        }
    }
}
